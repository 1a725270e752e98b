/* The child-stream copier: one native thread per child stream, compiled at run
 * time by Bun's embedded TinyCC (bun:ffi cc; see ./fast-pump.ts, which loads it
 * and documents the rules it keeps). A thread blocked in read(2) whose loop is
 * a few hundred bytes of machine code wakes up about as cheaply as `cat`; a
 * JavaScript Worker doing the same wakes a whole VM (it measured 1.5-2x cat per
 * line, plus ~30 ms to start each Worker).
 *
 * No system headers: the few libc declarations are below, so a machine without
 * a C toolchain or /usr/include compiles this too. Shared words are volatile
 * and the copier is used on x86-64 only (stores are seen in order there).
 *
 * Memory block (allocated here, viewed from JavaScript), byte offsets:
 *   0   int32  ctl[16]   control words (C_* in fast-pump.ts)
 *   64  double num[4]    counters (N_*)
 *   96  int32  cfg[8]    in_fd, out_fd, wake_fd, ring_bytes, records, max_queued, stuck_ms, line_keep
 *   128 double offset    epoch ms minus CLOCK_MONOTONIC ms
 *   136 int32  tune[4]   flood_ms, coalesce_us
 *   256 double rec[records*2]   (end position, arrival epoch ms) per chunk
 *   ... uint8  ring[ring_bytes]
 */
typedef unsigned long size_t;
typedef long ssize_t;
extern ssize_t read(int, void *, size_t);
extern ssize_t write(int, const void *, size_t);
extern ssize_t pwritev2(int, const void *, int, long, int);
extern int poll(void *, unsigned long, int);
extern int usleep(unsigned int);
extern int close(int);
extern int *__errno_location(void);
extern void *calloc(size_t, size_t);
extern void *malloc(size_t);
extern void *realloc(void *, size_t);
extern void *memcpy(void *, const void *, size_t);
extern void *memmove(void *, const void *, size_t);
extern void *memchr(const void *, int, size_t);
extern void *memrchr(const void *, int, size_t);
extern int clock_gettime(int, void *);
extern int pthread_create(unsigned long *, const void *, void *(*)(void *), void *);
extern int pthread_detach(unsigned long);
extern int pthread_setname_np(unsigned long, const char *);

#define HEADER 256
#define EINTR 4
#define EAGAIN 11
#define EINVAL 22
#define EOPNOTSUPP 95
#define RWF_NOWAIT 8
#define POLLIN 1
#define POLLOUT 4
#define BUF_BYTES (1 << 18)

enum { C_HEAD, C_TAIL, C_PARSE, C_GAPS, C_CLOSED, C_MIDLINE, C_EOF, C_RHEAD, C_RTAIL, C_ERRNO, C_DRAINING, C_WAKE };
enum { N_WRITTEN, N_DROPPED, N_READ };

struct pollfd_ { int fd; short events; short revents; };
struct iovec_ { void *base; size_t len; };
struct timespec_ { long sec; long nsec; };

double st_mono_ms(void) {
  struct timespec_ ts;
  clock_gettime(1, &ts);
  return ts.sec * 1000.0 + ts.nsec / 1e6;
}

/** A zeroed block for one stream (see the layout above); 0 when out of memory. */
char *st_new(int ring_bytes, int records) {
  return calloc(1, HEADER + (size_t)records * 16 + (size_t)ring_bytes);
}

typedef struct {
  volatile int *ctl;
  volatile double *num;
  double *rec;
  unsigned char *ring;
  int in_fd, out_fd, wake_fd, ring_bytes, records, stuck_ms, line_keep, flood_ms, coalesce_us;
  long max_queued;
  double offset;
  unsigned char *buf;
  int nowait, closed, stuck;
  unsigned char *q; /* output waiting for our stream: q[qhead .. qhead+qlen) */
  long qcap, qhead, qlen;
  long line_len;    /* bytes of the current (unfinished) line seen so far */
} st;

static void fail(st *s, int err) {
  if (!s->closed) { s->closed = 1; s->ctl[C_ERRNO] = err; s->ctl[C_CLOSED] = 1; }
  s->num[N_DROPPED] += s->qlen;
  s->qlen = 0;
  s->qhead = 0;
}

/* Writes p[0..n) without blocking where the stream allows it; bytes written, -1 when it would block. */
static long put(st *s, unsigned char *p, long n) {
  for (;;) {
    long w;
    if (s->nowait) {
      struct iovec_ iov;
      iov.base = p;
      iov.len = n;
      w = pwritev2(s->out_fd, &iov, 1, -1, RWF_NOWAIT);
    } else w = write(s->out_fd, p, n);
    if (w >= 0) return w;
    int err = *__errno_location();
    if (err == EINTR) continue;
    if (err == EAGAIN) return -1;
    if (s->nowait && (err == EOPNOTSUPP || err == EINVAL)) { s->nowait = 0; continue; }
    fail(s, err);
    return n;
  }
}

static void enqueue(st *s, unsigned char *p, long n) {
  /* Beyond the queue's size only while the reader is stuck: otherwise reading pauses (main loop). */
  if (s->stuck && s->qlen + n > s->max_queued) { s->num[N_DROPPED] += n; return; }
  if (s->qhead + s->qlen + n > s->qcap) {
    if (s->qhead) { memmove(s->q, s->q + s->qhead, s->qlen); s->qhead = 0; }
    if (s->qlen + n > s->qcap) {
      long cap = s->qcap ? s->qcap : 1 << 16;
      while (cap < s->qlen + n) cap *= 2;
      unsigned char *q = realloc(s->q, cap);
      if (!q) { s->num[N_DROPPED] += n; return; }
      s->q = q;
      s->qcap = cap;
    }
  }
  memcpy(s->q + s->qhead + s->qlen, p, n);
  s->qlen += n;
}

static void flush_queue(st *s) {
  while (s->qlen && !s->closed) {
    long w = put(s, s->q + s->qhead, s->qlen);
    if (s->closed || w < 0) return;
    if (w > 0) s->stuck = 0;
    s->num[N_WRITTEN] += w;
    s->qhead += w;
    s->qlen -= w;
  }
  if (!s->qlen) s->qhead = 0;
}

static void output(st *s, long n) {
  if (s->closed) { s->num[N_DROPPED] += n; return; }
  if (s->qlen) { enqueue(s, s->buf, n); flush_queue(s); return; }
  long off = 0;
  while (off < n) {
    long w = put(s, s->buf + off, n - off);
    if (s->closed) { s->num[N_DROPPED] += n - off; return; }
    if (w < 0) { enqueue(s, s->buf + off, n - off); return; }
    s->num[N_WRITTEN] += w;
    off += w;
  }
}

/* First / last "\n" or "\r" in buf[0..n), -1 for none. */
static long first_break(st *s, long n) {
  unsigned char *nl = memchr(s->buf, 10, n);
  long lim = nl ? nl - s->buf : n;
  unsigned char *cr = memchr(s->buf, 13, lim);
  return cr ? cr - s->buf : nl ? nl - s->buf : -1;
}
static long last_break(st *s, long n) {
  if (s->buf[n - 1] == 10) return n - 1; /* the usual chunk: whole lines */
  unsigned char *nl = memrchr(s->buf, 10, n);
  long from = nl ? nl - s->buf + 1 : 0;
  unsigned char *cr = memrchr(s->buf + from, 13, n - from);
  return cr ? cr - s->buf : from - 1;
}

static unsigned copy_in(st *s, long from, long to, unsigned at) {
  long n = to - from;
  long pos = at & (s->ring_bytes - 1);
  long first = n < s->ring_bytes - pos ? n : s->ring_bytes - pos;
  memcpy(s->ring + pos, s->buf + from, first);
  if (first < n) memcpy(s->ring, s->buf + from + first, n - first);
  return at + (unsigned)n;
}

static void to_parser(st *s, long n, double now) {
  if (s->ctl[C_PARSE] == 0) return;
  /* What of buf[0..n) the parser needs: all of it, except the part of a line
   * that runs on past line_keep bytes (head = the current line's share of this chunk). */
  long head_keep = n, rest_from = n;
  if (s->line_len + n > s->line_keep) {
    long f = first_break(s, n);
    long room = s->line_keep - s->line_len;
    if (room < 0) room = 0;
    if (f < 0) { head_keep = n < room ? n : room; s->line_len += n; }
    else { head_keep = f < room ? f : room; rest_from = f; s->line_len = n - last_break(s, n) - 1; }
  } else {
    long l = last_break(s, n);
    s->line_len = l < 0 ? s->line_len + n : n - l - 1;
  }
  long take = head_keep + (n - rest_from);
  if (take == 0) return;
  unsigned head = (unsigned)s->ctl[C_HEAD];
  unsigned rhead = (unsigned)s->ctl[C_RHEAD];
  if ((unsigned)(head - (unsigned)s->ctl[C_TAIL]) + take > (unsigned)s->ring_bytes
      || (unsigned)(rhead - (unsigned)s->ctl[C_RTAIL]) >= (unsigned)s->records) {
    s->ctl[C_GAPS] = s->ctl[C_GAPS] + 1;
    return;
  }
  unsigned end = copy_in(s, 0, head_keep, head);
  if (rest_from < n) end = copy_in(s, rest_from, n, end);
  long r = (rhead & (s->records - 1)) * 2;
  s->rec[r] = (double)(int)end;
  s->rec[r + 1] = s->offset + now;
  s->ctl[C_HEAD] = (int)end;
  s->ctl[C_RHEAD] = (int)(rhead + 1);
  /* The main thread pulls on its timer; a burst that fills half the ring asks it to pull now (once until it has). */
  if (((unsigned)(end - (unsigned)s->ctl[C_TAIL]) > (unsigned)(s->ring_bytes >> 1)
       || (unsigned)(rhead + 1 - (unsigned)s->ctl[C_RTAIL]) > (unsigned)(s->records >> 1))
      && s->ctl[C_WAKE] == 0) {
    s->ctl[C_WAKE] = 1;
    write(s->wake_fd, "p", 1); /* non-blocking: a full wake pipe already says it */
  }
}

static void *run(void *arg) {
  st *s = arg;
  struct pollfd_ pfd[2];
  double last_read = -1e9;
  for (;;) {
    if (s->qlen >= s->max_queued && !s->closed && !s->stuck) {
      /* The queue is full: let the reader pace the child (as it would without
       * us) as long as it takes something; one that takes nothing is stuck. */
      pfd[0].fd = s->out_fd; pfd[0].events = POLLOUT; pfd[0].revents = 0;
      int r = poll(pfd, 1, s->stuck_ms);
      if (r < 0 && *__errno_location() != EINTR) { fail(s, *__errno_location()); continue; }
      if (r == 0) s->stuck = 1;
      else if (r > 0) flush_queue(s);
      continue;
    }
    if (s->qlen && !s->closed) {
      /* Wait for the child's output or for room in ours, whichever comes first. */
      pfd[0].fd = s->in_fd; pfd[0].events = POLLIN; pfd[0].revents = 0;
      pfd[1].fd = s->out_fd; pfd[1].events = POLLOUT; pfd[1].revents = 0;
      int r = poll(pfd, 2, -1);
      if (r < 0 && *__errno_location() != EINTR) { fail(s, *__errno_location()); continue; }
      if (pfd[1].revents) flush_queue(s);
      if (!pfd[0].revents) continue;
    }
    long n = read(s->in_fd, s->buf, BUF_BYTES);
    if (n < 0) { if (*__errno_location() == EINTR) continue; break; }
    if (n == 0) break;
    s->num[N_READ] += n;
    s->ctl[C_MIDLINE] = s->buf[n - 1] == 10 ? 0 : 1;
    double now = st_mono_ms();
    output(s, n);
    to_parser(s, n, now);
    /* A child printing line after line (a DEBUG start-up) would cost two system
     * calls per line, as in cat. While the output comes that fast, wait a
     * moment after each write so that the next read takes many lines at once. */
    if (now - last_read < s->flood_ms && n < BUF_BYTES >> 2) usleep(s->coalesce_us);
    last_read = now;
  }
  /* End of the child's output: what is still queued is written out while the
   * reader keeps taking it; a reader that takes nothing for stuck_ms loses the rest. */
  s->ctl[C_DRAINING] = 1;
  double until = st_mono_ms() + s->stuck_ms;
  while (s->qlen && !s->closed && st_mono_ms() < until) {
    pfd[0].fd = s->out_fd; pfd[0].events = POLLOUT; pfd[0].revents = 0;
    poll(pfd, 1, 50);
    long before = s->qlen;
    flush_queue(s);
    if (s->qlen < before) until = st_mono_ms() + s->stuck_ms;
  }
  if (s->qlen) s->num[N_DROPPED] += s->qlen;
  close(s->in_fd);
  s->ctl[C_EOF] = 1;
  close(s->wake_fd); /* the main thread's reader of the wake pipe sees the end */
  return 0;
}

/** Starts the copier thread for the block m; 0 on success. */
int st_start(char *m) {
  st *s = calloc(1, sizeof(st));
  if (!s) return -1;
  int *cfg = (int *)(m + 96);
  int *tune = (int *)(m + 136);
  s->ctl = (volatile int *)m;
  s->num = (volatile double *)(m + 64);
  s->in_fd = cfg[0]; s->out_fd = cfg[1]; s->wake_fd = cfg[2];
  s->ring_bytes = cfg[3]; s->records = cfg[4]; s->max_queued = cfg[5]; s->stuck_ms = cfg[6]; s->line_keep = cfg[7];
  s->flood_ms = tune[0]; s->coalesce_us = tune[1];
  s->offset = *(double *)(m + 128);
  s->rec = (double *)(m + HEADER);
  s->ring = (unsigned char *)(m + HEADER + (long)s->records * 16);
  s->nowait = 1;
  s->buf = malloc(BUF_BYTES);
  if (!s->buf) return -1;
  unsigned long t;
  if (pthread_create(&t, 0, run, s) != 0) return -1;
  pthread_setname_np(t, s->out_fd == 2 ? "st-copy-stderr" : "st-copy-stdout"); /* for top -H and bench/thread-cpu.ts */
  pthread_detach(t);
  return 0;
}
