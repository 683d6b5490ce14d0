/* The kernel's floor for the HTTP proxy's latency: a byte relay in C (no Python at all).
 *
 * Same shape as mcp_relay_floor.py: one thread on epoll, each client connection paired with
 * an upstream connection opened ahead of time, bytes passed both ways as they arrive,
 * TCP_NODELAY on both sides. What this adds per call against a direct connection is what one
 * more process on the path costs on this machine (loopback TCP twice, two more wake-ups),
 * whatever language the relay is in. bench_mcp.py compiles it with `cc` when there is one.
 *
 * Run: mcp_relay_floor UPSTREAM_PORT   (prints "PORT n" once listening)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
static int peer[MAXFD];
static int upstream_port, ep;

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(upstream_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (void *)&a, sizeof a) < 0) {
        perror("mcp_relay_floor: connect");
        exit(1);
    }
    nodelay(fd);
    return fd;
}

static void watch(int fd) {
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static void drop(int fd) {
    int p = peer[fd];
    close(fd);
    peer[fd] = -1;
    if (p >= 0) {
        close(p);
        peer[p] = -1;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mcp_relay_floor UPSTREAM_PORT\n");
        return 2;
    }
    upstream_port = atoi(argv[1]);
    memset(peer, -1, sizeof peer);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(ls, (void *)&a, sizeof a) < 0 || listen(ls, 1024) < 0) {
        perror("mcp_relay_floor: listen");
        return 1;
    }
    getsockname(ls, (void *)&a, &len);
    ep = epoll_create1(0);
    watch(ls);
    int spare = dial();
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    static char buf[262144];
    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(ep, events, 64, -1);
        int refill = 0;
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                int c = accept(ls, NULL, NULL);
                if (c >= 0 && spare < 0) spare = dial(); /* two clients in one pass */
                if (c < 0 || c >= MAXFD || spare >= MAXFD) {
                    if (c >= 0) close(c);
                    continue;
                }
                nodelay(c);
                peer[c] = spare;
                peer[spare] = c;
                watch(c);
                watch(spare);
                spare = -1;
                refill = 1;
                continue;
            }
            if (peer[fd] < 0) continue;
            ssize_t got = recv(fd, buf, sizeof buf, 0);
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN) continue;
                drop(fd);
                continue;
            }
            for (ssize_t off = 0; off < got;) {
                ssize_t sent = send(peer[fd], buf + off, got - off, MSG_NOSIGNAL);
                if (sent < 0 && errno == EAGAIN) continue; /* small answers: spin, never wait */
                if (sent < 0) {
                    drop(fd);
                    break;
                }
                off += sent;
            }
        }
        if (refill) spare = dial(); /* the next client's connection, after this pass's bytes */
    }
}
