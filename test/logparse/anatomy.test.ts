// Line anatomy: process prefixes per era, colour codes, wrappers, glued tqdm
// residue. Lines are taken from the real logs in ../shared/vllm-logs/.
import { describe, expect, test } from "bun:test";
import { parseLine, stripAnsi } from "../../src/logparse/anatomy.ts";

const sec = (h: number, m: number, s: number) => h * 3600 + m * 60 + s;

describe("header formats", () => {
  test("up to v0.7: no opening bracket", () => {
    const l = parseLine("INFO 12-06 14:08:00 model_runner.py:1077] Loading model weights took 2.3185 GB");
    expect(l.level).toBe("INFO");
    expect([l.month, l.day, l.secondOfDay]).toEqual([12, 6, sec(14, 8, 0)]);
    expect(l.file).toBe("model_runner.py");
    expect(l.message).toBe("Loading model weights took 2.3185 GB");
    expect(l.proc).toBeNull();
  });
  test("from v0.8: [file:line]", () => {
    const l = parseLine("INFO 07-02 17:08:07 [worker.py:267] Memory profiling takes 5.35 seconds");
    expect(l.file).toBe("worker.py");
    expect(l.message).toBe("Memory profiling takes 5.35 seconds");
  });
  test("milliseconds (study DEBUG logs)", () => {
    const l = parseLine("DEBUG 02-09 18:06:09.576 [__init__.py:28] No plugins for group vllm.platform_plugins found.");
    expect(l.level).toBe("DEBUG");
    expect(l.secondOfDay).toBeCloseTo(sec(18, 6, 9) + 0.576, 6);
  });
  test("uvicorn lines, unprefixed and prefixed", () => {
    expect(parseLine("INFO:     Application startup complete.")).toMatchObject({ level: "INFO", message: "Application startup complete.", hasTime: false });
    expect(parseLine("(APIServer pid=1) INFO:     Application startup complete.")).toMatchObject({ level: "INFO", proc: "APIServer", pid: 1, message: "Application startup complete." });
  });
  test("foreign formats are not vLLM headers", () => {
    expect(parseLine("2025:08:14-14:34:47:(19220) |CCL_WARN| value of CCL_ATL_TRANSPORT changed").hasTime).toBe(false);
    // Not a vLLM header (no [file:line] record), but Python logging's asctime on the engine's clock:
    // FlashInfer's autotuner lines keep their own time (import, replay pacing, the timeline).
    const fi = parseLine("(EngineCore_DP0 pid=164) 2026-01-23 15:50:10,030 - INFO - autotuner.py:256 - flashinfer.jit: [Autotuner]: Autotuning process starts ...");
    expect(fi.hasTime).toBe(true);
    expect(fi.file).toBeNull();
    expect(fi.proc).toBe("EngineCore_DP0");
    expect([fi.month, fi.day, fi.secondOfDay]).toEqual([1, 23, 15 * 3600 + 50 * 60 + 10.03]);
    expect(fi.message.startsWith("autotuner.py:256")).toBe(true);
    // Docker Desktop's export prefix is not a record time.
    expect(parseLine("2026-05-01 19:08:06.391 | some text").hasTime).toBe(false);
  });
});

describe("process prefixes per era", () => {
  const cases: [string, string, number][] = [
    ["(VllmWorkerProcess pid=533) INFO 04-15 12:10:43 model_runner.py:1099] Loading model weights took 21.6682 GB", "VllmWorkerProcess", 533],
    ["(VllmWorker rank=1 pid=839) ERROR 10-24 13:48:14 [multiproc_executor.py:514] WorkerProc failed to start.", "VllmWorker rank=1", 839],
    ["[1;36m(VllmWorker PP1_TP2 pid=2976907)[0;0m INFO 09-24 00:43:52 [pynccl.py:70] vLLM is using nccl==2.26.2", "VllmWorker PP1_TP2", 2976907],
    ["(EngineCore_0 pid=19220) ERROR 08-14 14:34:47 [core.py:684] EngineCore failed to start.", "EngineCore_0", 19220],
    ["(EngineCore_DP0 pid=164) INFO 01-23 15:49:11 [backends.py:559] Dynamo bytecode transform time: 3.29 s", "EngineCore_DP0", 164],
    ["(Worker_TP0 pid=201) INFO 03-11 10:00:41 [default_loader.py:293] Loading weights took 4.71 seconds", "Worker_TP0", 201],
    ["(EngineCore pid=151) INFO 05-18 08:00:26 [core.py:299] init engine (profile, create kv cache, warmup model) took 18.03 s", "EngineCore", 151],
  ];
  for (const [raw, proc, pid] of cases) {
    test(proc, () => {
      const l = parseLine(raw);
      expect(l.proc).toBe(proc);
      expect(l.pid).toBe(pid);
      expect(l.hasTime).toBe(true);
      expect(l.message.startsWith("(")).toBe(false);
    });
  }
  test("bare prefix before a progress bar", () => {
    const l = parseLine("(EngineCore_DP0 pid=164) ");
    expect(l.proc).toBe("EngineCore_DP0");
    expect(l.message).toBe("");
  });
  test("header-less line behind a prefix keeps its own text (traceback frame indentation)", () => {
    expect(parseLine("(EngineCore_0 pid=19220) RuntimeError: oneCCL: comm_selector.cpp:57 create_comm_impl").message)
      .toBe("RuntimeError: oneCCL: comm_selector.cpp:57 create_comm_impl");
    expect(parseLine("(APIServer pid=19130)     raise RuntimeError(\"Engine core initialization failed. \"").message)
      .toBe("    raise RuntimeError(\"Engine core initialization failed. \"");
  });
  test("interleaving damage: two prefixes", () => {
    const l = parseLine("(VllmWorkerProcess pid=533) (VllmWorkerProcess pid=536) WARNING 04-15 12:10:30 custom_all_reduce.py:134] Custom allreduce is disabled");
    expect(l.level).toBe("WARNING");
    expect(l.proc).toBe("VllmWorkerProcess");
  });
});

describe("colour codes", () => {
  test("real ESC bytes", () => {
    const l = parseLine("\x1b[1;36m(EngineCore_0 pid=985958)\x1b[0;0m INFO 02-09 18:06:17.817 [gpu_model_runner.py:1953] Starting to load model x...");
    expect(l.proc).toBe("EngineCore_0");
    expect(l.message).toBe("Starting to load model x...");
  });
  test("CloudWatch #033[ and copy-paste [1;36m without ESC", () => {
    expect(stripAnsi("#033[1;36m(VllmWorkerProcess pid=240)#033[0;0m INFO")).toBe("(VllmWorkerProcess pid=240) INFO");
    expect(stripAnsi("[1;36m(VllmWorker PP1_TP2 pid=1)[0;0m INFO")).toBe("(VllmWorker PP1_TP2 pid=1) INFO");
  });
  test("text without colour is returned as is", () => {
    const s = "INFO 12-06 14:08:00 model_runner.py:1077] [file] list";
    expect(stripAnsi(s)).toBe(s);
  });
});

describe("outer wrappers", () => {
  test("journald", () => {
    const l = parseLine("Feb 22 06:34:55 gpu-host env[2827]: INFO 02-22 06:34:55 [gpu_worker.py:298] Available KV cache memory: 12.5 GiB");
    expect(l.message).toBe("Available KV cache memory: 12.5 GiB");
    expect([l.month, l.day]).toEqual([2, 22]);
  });
  test("docker compose: the service is the stream", () => {
    const l = parseLine("qwen3.5-4b  | (EngineCore_DP0 pid=132) INFO 03-09 12:54:46 [default_loader.py:293] Loading weights took 4.71 seconds");
    expect(l.stream).toBe("qwen3.5-4b");
    expect(l.proc).toBe("EngineCore_DP0");
    expect(l.message).toBe("Loading weights took 4.71 seconds");
    const tb = parseLine("qwen3.5-4b  | (APIServer pid=1) RuntimeError: Engine core initialization failed. See root cause above.");
    expect(tb.stream).toBe("qwen3.5-4b");
    expect(tb.message).toBe("RuntimeError: Engine core initialization failed. See root cause above.");
    expect(parseLine("qwen3.5-4b exited with code 1 (restarting)").stream).toBeNull();
  });
  test("Docker Desktop export: wall clock prefix is not a stream; vLLM's own time is used", () => {
    const l = parseLine("2026-05-01 19:08:06.391 | (EngineCore pid=187) INFO 05-01 17:08:06 [default_loader.py:384] Loading weights took 18.35 seconds");
    expect(l.stream).toBeNull();
    expect(l.secondOfDay).toBe(sec(17, 8, 6));
    expect(l.proc).toBe("EngineCore");
  });
  test("DJL / CloudWatch", () => {
    const l = parseLine("[INFO ] PyProcess - W-210-model-stdout: #033[1;36m(VllmWorkerProcess pid=237)#033[0;0m INFO 02-14 08:23:25 model_runner.py:1563] Graph capturing finished in 5 secs, took 0.47 GiB");
    expect(l.proc).toBe("VllmWorkerProcess");
    expect(l.message).toBe("Graph capturing finished in 5 secs, took 0.47 GiB");
  });
  test("markdown indentation and notebook exports", () => {
    expect(parseLine("   INFO 02-13 15:01:40 monitor.py:33] torch.compile takes 30.03 s in total").message).toBe("torch.compile takes 30.03 s in total");
    expect(parseLine("    INFO 07-02 17:08:07 [worker.py:267] Memory profiling takes 5.35 seconds").level).toBe("INFO");
  });
});

describe("progress bars", () => {
  test("tqdm residue glued to the next record", () => {
    const l = parseLine("Capturing CUDA graph shapes: 100%|██████████| 35/35 [00:19<00:00,  1.78it/s]INFO 12-31 08:02:14 [model_runner.py:1592] Graph capturing finished in 20 secs, took 0.08 GiB");
    expect(l.message).toBe("Graph capturing finished in 20 secs, took 0.08 GiB");
    expect(l.file).toBe("model_runner.py");
  });
  test("bar glued before a prefixed record", () => {
    const l = parseLine("Capturing CUDA graph shapes:  97%|█████████▋| 34/35 [00:30<00:00,  1.75it/s](VllmWorkerProcess pid=533) INFO 04-15 12:13:24 model_runner.py:1535] Graph capturing finished in 31 secs, took 0.36 GiB");
    expect(l.proc).toBe("VllmWorkerProcess");
    expect(l.message).toBe("Graph capturing finished in 31 secs, took 0.36 GiB");
  });
  test("download residue after the message stays in the message", () => {
    const l = parseLine("INFO 08-14 14:34:31 [__init__.py:1] Download model 'Qwen/Qwen3-0.6B' successfully.█▉      | 7.00M/10.9M [00:01<00:00, 5.23MB/s]");
    expect(l.message.startsWith("Download model")).toBe(true);
  });
  test("NUL bytes and long lines do not break parsing", () => {
    const l = parseLine("\0\0INFO 07-02 17:08:07 [worker.py:267] Memory profiling takes 5.35 seconds\0");
    expect(l.level).toBe("INFO");
    const long = parseLine("x".repeat(16 * 1024 - 100) + " INFO 07-02 17:08:07 [worker.py:267] ok");
    expect(long.message).toBe("ok");
  });
  test("regexes stay linear on adversarial 16 KiB lines", () => {
    const t0 = performance.now();
    for (const s of ["(" + "a ".repeat(8000), "INFO 01-01 00:00:00 " + "[".repeat(16000), "#033[" + "1;".repeat(8000), "[1" + ";1".repeat(8000)]) parseLine(s);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
