// The tracer as PID 1 (a container whose entrypoint it is): orphaned
// grandchildren are re-parented to it, and Bun waits only for the processes it
// spawned, so exited orphans would stay zombies for the life of the server.
// As PID 1 the tracer therefore reaps them: every second it peeks (waitid
// WNOWAIT) at an exited child and, when it is not the wrapped command (whose
// status Bun must collect itself), reaps it. When the tracer exits, the kernel
// ends whatever is left in the PID namespace; the exit status is the child's.
// Without bun:ffi (not Linux) nothing is reaped: run under tini (`docker run
// --init`) or with `shareProcessNamespace: true` in Kubernetes instead.
export function startReaper(childPid: number): (() => void) | null {
  if (process.pid !== 1 || process.platform !== "linux") return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      waitid: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
    const P_ALL = 0, WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
    const info = new Int32Array(32); // siginfo_t, 128 bytes; si_pid at byte 16
    const status = new Int32Array(1);
    const reap = () => {
      for (let i = 0; i < 64; i++) {
        info.fill(0);
        if (libc.symbols.waitid(P_ALL, 0, ptr(info), WEXITED | WNOHANG | WNOWAIT) !== 0) return;
        const pid = info[4];
        if (pid <= 0 || pid === childPid) return; // nothing exited, or it is Bun's to collect
        libc.symbols.waitpid(pid, ptr(status), WNOHANG);
      }
    };
    const timer = setInterval(reap, 1000);
    timer.unref?.();
    return () => clearInterval(timer);
  } catch {
    return null;
  }
}
