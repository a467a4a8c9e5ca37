// udp-probe: the kernel lab's traffic tool for TDMA tests. Built on the host as a static
// binary (gcc -O2 -static) and put into the VM with LabVm.boot's `files`.
//
//   udp-probe recv DURATION_MS PORT...
//       Binds a UDP socket per port on 0.0.0.0 with SO_TIMESTAMPNS and records, for every
//       datagram, the kernel's receive timestamp (CLOCK_REALTIME, taken when the packet
//       entered the receiving device's backlog: for a veth, the instant the sending side's
//       qdisc released it). Prints after DURATION_MS:
//         # base BASE_S                      (a whole second; the times below are after it)
//         PORT_INDEX SEQ ARRIVAL_NS SENT_NS  (one line per datagram, ns since BASE_S)
//   udp-probe send INTERVAL_US DURATION_MS ADDR:PORT[/SPORT]...
//       Sends 64-byte datagrams round robin over the targets, one every INTERVAL_US
//       (absolute CLOCK_MONOTONIC deadlines: no drift), one unconnected socket per target
//       (bound to source port SPORT where given: for classes that match a source port).
//       Each carries a sequence number and its send time (CLOCK_REALTIME). Prints
//         sent ADDR:PORT COUNT ERRORS     (per target)
//   udp-probe write FILE VALUE [FILE VALUE]...
//       Writes each VALUE to its FILE (sysfs module parameters), back to back, and prints
//         before NS / after NS            (CLOCK_REALTIME before the first, after the last write)
//       A VALUE of ? reads the FILE instead (printed after those lines): what a write did,
//       read microseconds later. Exits 1 naming the file and errno if a write fails.
//   udp-probe now
//       Prints CLOCK_REALTIME and CLOCK_TAI in ns.
//   udp-probe tai SECONDS
//       Sets the kernel's TAI offset (adjtimex ADJ_TAI): CLOCK_TAI = CLOCK_REALTIME + SECONDS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 16
#define MAX_RECORDS (1 << 20)

struct payload {
  uint32_t magic;
  uint32_t seq;
  uint64_t sent_ns;
  char pad[48];
};
#define MAGIC 0x71746461u /* "qtda" */

static uint64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

struct record {
  uint8_t port;
  uint32_t seq;
  uint64_t arrival, sent;
};

static int cmd_recv(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "recv DURATION_MS PORT...\n"), 2;
  long duration = atol(argv[0]);
  int n = argc - 1;
  if (n > MAX_PORTS) return fprintf(stderr, "at most %d ports\n", MAX_PORTS), 2;
  struct pollfd pfd[MAX_PORTS];
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int on = 1, rcvbuf = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on)) die("SO_TIMESTAMPNS");
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1 + i])), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a)) die("bind");
    pfd[i] = (struct pollfd){.fd = fd, .events = POLLIN};
  }
  // Ready: the caller waits for this line (on stderr, unbuffered) before sending.
  fprintf(stderr, "ready\n");
  struct record *rec = calloc(MAX_RECORDS, sizeof *rec);
  if (!rec) die("calloc");
  size_t count = 0, dropped = 0;
  uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)duration * 1000000ull;
  for (;;) {
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    if (t >= end) break;
    int wait = (int)((end - t) / 1000000ull) + 1;
    if (poll(pfd, n, wait) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (int i = 0; i < n; i++) {
      if (!(pfd[i].revents & POLLIN)) continue;
      for (;;) {
        struct payload p;
        char ctrl[256];
        struct iovec iov = {.iov_base = &p, .iov_len = sizeof p};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
        ssize_t len = recvmsg(pfd[i].fd, &m, 0);
        if (len < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          die("recvmsg");
        }
        uint64_t arrival = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            arrival = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
          }
        }
        if (len != (ssize_t)sizeof p || p.magic != MAGIC || !arrival) {
          dropped++;
          continue;
        }
        if (count < MAX_RECORDS) rec[count++] = (struct record){.port = (uint8_t)i, .seq = p.seq, .arrival = arrival, .sent = p.sent_ns};
      }
    }
  }
  uint64_t base = count ? rec[0].sent : now_ns(CLOCK_REALTIME);
  for (size_t k = 0; k < count; k++)
    if (rec[k].sent < base) base = rec[k].sent;
  base = base / 1000000000ull - 1;
  printf("# base %llu\n", (unsigned long long)base);
  if (dropped) printf("# foreign %zu\n", dropped);
  uint64_t b = base * 1000000000ull;
  for (size_t k = 0; k < count; k++)
    printf("%u %u %llu %llu\n", rec[k].port, rec[k].seq, (unsigned long long)(rec[k].arrival - b), (unsigned long long)(rec[k].sent - b));
  return 0;
}

static int cmd_send(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "send INTERVAL_US DURATION_MS ADDR:PORT...\n"), 2;
  long interval = atol(argv[0]), duration = atol(argv[1]);
  int n = argc - 2;
  if (n > MAX_PORTS) return fprintf(stderr, "at most %d targets\n", MAX_PORTS), 2;
  int fd[MAX_PORTS];
  struct sockaddr_in to[MAX_PORTS];
  unsigned long sent[MAX_PORTS] = {0}, errs[MAX_PORTS] = {0};
  for (int i = 0; i < n; i++) {
    char addr[64];
    const char *colon = strrchr(argv[2 + i], ':');
    if (!colon || colon - argv[2 + i] >= (long)sizeof addr) return fprintf(stderr, "bad target %s\n", argv[2 + i]), 2;
    memcpy(addr, argv[2 + i], colon - argv[2 + i]);
    addr[colon - argv[2 + i]] = 0;
    to[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    if (inet_pton(AF_INET, addr, &to[i].sin_addr) != 1) return fprintf(stderr, "bad address %s\n", addr), 2;
    fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd[i] < 0) die("socket");
    const char *slash = strchr(colon + 1, '/');
    if (slash) {
      struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(atoi(slash + 1)), .sin_addr.s_addr = htonl(INADDR_ANY)};
      if (bind(fd[i], (struct sockaddr *)&from, sizeof from) < 0) die("bind");
    }
    int sndbuf = 4 << 20;
    setsockopt(fd[i], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  }
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)duration * 1000000ull;
  uint32_t seq = 0;
  for (int i = 0; now_ns(CLOCK_MONOTONIC) < end; i = (i + 1) % n) {
    struct payload p = {.magic = MAGIC, .seq = seq++, .sent_ns = now_ns(CLOCK_REALTIME)};
    if (sendto(fd[i], &p, sizeof p, 0, (struct sockaddr *)&to[i], sizeof to[i]) == (ssize_t)sizeof p) sent[i]++;
    else errs[i]++;
    next.tv_nsec += interval * 1000;
    while (next.tv_nsec >= 1000000000) next.tv_nsec -= 1000000000, next.tv_sec++;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
  for (int i = 0; i < n; i++) printf("sent %s %lu %lu\n", argv[2 + i], sent[i], errs[i]);
  return 0;
}

static int cmd_write(int argc, char **argv) {
  if (argc < 2 || argc % 2) return fprintf(stderr, "write FILE VALUE [FILE VALUE]...\n"), 2;
  uint64_t before = now_ns(CLOCK_REALTIME), after = before;
  char got[4096];
  size_t have = 0;
  for (int i = 0; i < argc; i += 2) {
    int fd = open(argv[i], strcmp(argv[i + 1], "?") ? O_WRONLY : O_RDONLY);
    if (fd < 0) return fprintf(stderr, "open %s: %s\n", argv[i], strerror(errno)), 1;
    if (!strcmp(argv[i + 1], "?")) {
      ssize_t n = read(fd, got + have, sizeof got - 1 - have);
      if (n > 0) have += (size_t)n;
    } else {
      size_t len = strlen(argv[i + 1]);
      if (write(fd, argv[i + 1], len) != (ssize_t)len) return fprintf(stderr, "write %s: %s\n", argv[i], strerror(errno)), 1;
      after = now_ns(CLOCK_REALTIME);
    }
    close(fd);
  }
  got[have] = 0;
  printf("before %llu\nafter %llu\n%s", (unsigned long long)before, (unsigned long long)after, got);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stderr, NULL, _IONBF, 0);
  if (argc >= 2 && !strcmp(argv[1], "recv")) return cmd_recv(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "send")) return cmd_send(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "write")) return cmd_write(argc - 2, argv + 2);
  if (argc == 3 && !strcmp(argv[1], "tai")) {
    struct timex tx = {.modes = ADJ_TAI, .constant = atol(argv[2])};
    if (adjtimex(&tx) < 0) die("adjtimex ADJ_TAI");
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "now")) {
    printf("realtime %llu\ntai %llu\n", (unsigned long long)now_ns(CLOCK_REALTIME), (unsigned long long)now_ns(CLOCK_TAI));
    return 0;
  }
  fprintf(stderr, "usage: udp-probe recv|send|write|now|tai …\n");
  return 2;
}
