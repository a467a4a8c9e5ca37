// qpsend: a UDP sender that saturates one CPU with small datagrams (sendmmsg, 64 per call),
// cycling over a list of destinations, and counts what the receiving device got.
//
//   qpsend DESTFILE SECONDS WARMUP RXCOUNTER [PAYLOAD]   measure: prints one JSON line
//   qpsend DESTFILE --once K [PAYLOAD]                   send K datagrams to each destination
//
// DESTFILE: lines "IPv4 PORT". RXCOUNTER: a file holding a packet counter, e.g.
// /sys/class/net/v1/statistics/rx_packets (read inside the namespace). The rate is the
// counter's increase over SECONDS, after WARMUP seconds of sending. PAYLOAD defaults to 18
// bytes: 14 + 20 + 8 + 18 = 60-byte Ethernet frames, 64 bytes on a wire with the FCS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long counter(const char *path) {
  FILE *f = fopen(path, "r");
  long long v = -1;
  if (!f || fscanf(f, "%lld", &v) != 1) { fprintf(stderr, "qpsend: cannot read %s\n", path); exit(1); }
  fclose(f);
  return v;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: qpsend DESTFILE SECONDS WARMUP RXCOUNTER [PAYLOAD] | DESTFILE --once K [PAYLOAD]\n"); return 2; }
  int once = strcmp(argv[2], "--once") == 0;
  if (!once && argc < 5) { fprintf(stderr, "qpsend: RXCOUNTER missing\n"); return 2; }
  int pi = once ? 4 : 5;
  int payload = argc > pi ? atoi(argv[pi]) : 18;
  if (payload < 1 || payload > 1400) { fprintf(stderr, "qpsend: PAYLOAD must be 1-1400\n"); return 2; }

  FILE *df = fopen(argv[1], "r");
  if (!df) { perror(argv[1]); return 1; }
  size_t n = 0, cap = 1024;
  struct sockaddr_in *dst = calloc(cap, sizeof *dst);
  char ip[64];
  int port;
  while (fscanf(df, "%63s %d", ip, &port) == 2) {
    if (n == cap) dst = realloc(dst, (cap *= 2) * sizeof *dst);
    memset(&dst[n], 0, sizeof dst[n]);
    dst[n].sin_family = AF_INET;
    dst[n].sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, ip, &dst[n].sin_addr) != 1) { fprintf(stderr, "qpsend: bad address %s\n", ip); return 1; }
    n++;
  }
  fclose(df);
  if (n == 0) { fprintf(stderr, "qpsend: no destinations\n"); return 1; }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  static char data[1400];
  memset(data, 'q', sizeof data);
  struct iovec iov = { data, (size_t)payload };
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }

  size_t next = 0;
  if (once) {
    long k = atol(argv[3]);
    long long total = (long long)k * (long long)n, sent = 0;
    while (sent < total) {
      int m = total - sent < BATCH ? (int)(total - sent) : BATCH;
      for (int i = 0; i < m; i++) { msgs[i].msg_hdr.msg_name = &dst[next]; next = (next + 1) % n; }
      int r = sendmmsg(fd, msgs, m, 0);
      if (r < 0) { if (errno == ENOBUFS || errno == EAGAIN) { usleep(100); next = (next + n - (size_t)m % n) % n; continue; } perror("sendmmsg"); return 1; }
      if (r < m) next = (next + n - (size_t)(m - r) % n) % n;
      sent += r;
    }
    printf("{\"sent\":%lld}\n", sent);
    return 0;
  }

  double seconds = atof(argv[2]), warmup = atof(argv[3]);
  const char *rx = argv[4];
  double t0 = now(), tStart = 0, tEnd = t0 + warmup + seconds;
  long long sent = 0, sentStart = 0, rxStart = 0;
  int measuring = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) { msgs[i].msg_hdr.msg_name = &dst[next]; next = next + 1 == n ? 0 : next + 1; }
    int r = sendmmsg(fd, msgs, BATCH, 0);
    if (r > 0) sent += r;
    else if (r < 0 && errno != ENOBUFS && errno != EAGAIN) { perror("sendmmsg"); return 1; }
    double t = now();
    if (!measuring && t - t0 >= warmup) { measuring = 1; tStart = t; sentStart = sent; rxStart = counter(rx); }
    if (t >= tEnd) {
      long long rxEnd = counter(rx);
      double dt = t - tStart;
      printf("{\"pps\":%.0f,\"sentPps\":%.0f,\"rx\":%lld,\"sent\":%lld,\"seconds\":%.3f}\n", (rxEnd - rxStart) / dt, (sent - sentStart) / dt, rxEnd - rxStart, sent - sentStart, dt);
      return 0;
    }
  }
}
