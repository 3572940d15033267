// A cap on header-table nesting, applied to the bytes librabbitmq reads before it decodes
// them. librabbitmq decodes field tables recursively without a limit, so one message whose
// headers nest tables some 15,000 levels deep (it fits in a 128 KiB frame, and RabbitMQ
// passes it on) overflows the connection thread's stack and kills the process. A bigger stack
// only moves the limit; this guard removes it.
//
// How: the guard replaces the socket's `recv` (librabbitmq's socket objects start with a
// pointer to their class, a table of functions). It buffers what it reads until whole frames
// are there, and in every content header frame it walks the header table iteratively; a table
// or array nested deeper than the cap has its kind byte changed from 'F' / 'A' to 'x' (byte
// array): same length prefix, same frame size, so librabbitmq reads the deep part as opaque
// bytes without recursing into it. For every header frame it records, in stream order, whether
// it was capped; the connection thread takes these in the same order as it dispatches the
// frames and marks the delivery (`crmq_guard_take_header`).
//
// The socket-class layout is librabbitmq's private `amqp_socket.h` of versions 0.10 and later
// (send, recv, open, close, get_sockfd, delete); `crmq_guard_install` refuses other versions.
#include "CRabbitMQShim.h"
#include <stdlib.h>
#include <string.h>

typedef ssize_t (*guard_recv_fn)(void *, void *, size_t, int);
typedef void (*guard_delete_fn)(void *);

struct guard_socket_class {
    void *send;
    guard_recv_fn recv;
    void *open;
    void *close;
    void *get_sockfd;
    guard_delete_fn delete_;
};

struct crmq_guard {
    struct guard_socket_class klass; // must stay first: the socket points here
    const struct guard_socket_class *original;
    int max_depth;
    int passthrough; // a frame too large to hold: hand everything on unscanned
    unsigned char *buf;
    size_t cap, start, ready, end; // [start, ready) scanned, [ready, end) not yet whole
    unsigned char *flags; // one per header frame seen: 1 = capped
    uint16_t *channels;
    size_t fcap, fhead, fcount;
    uint64_t capped_total;
};

#define GUARD_BUFFER (1u << 20)

static struct crmq_guard *guard_of(void *socket) { return *(struct crmq_guard **)socket; }

static uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

// The size of a field value's payload after its kind byte, or -1 if unknown/out of bounds.
static long value_size(unsigned char kind, const unsigned char *p, size_t avail) {
    switch (kind) {
    case 't': case 'b': case 'B': return 1;
    case 's': case 'u': return 2;
    case 'I': case 'i': case 'f': return 4;
    case 'l': case 'L': case 'd': case 'T': return 8;
    case 'D': return 5;
    case 'V': return 0;
    case 'S': case 'x': case 'F': case 'A':
        if (avail < 4) return -1;
        return 4 + (long)be32(p);
    default: return -1;
    }
}

// Walks a table ('F', entries with keys) or array ('A', values only) at `depth` without
// recursion deeper than max_depth: nested containers past the cap are re-typed 'x'.
// Returns 1 if anything was capped.
static int scan_container(unsigned char *p, size_t len, int is_table, int depth, int max_depth) {
    int capped = 0;
    size_t off = 0;
    while (off < len) {
        if (is_table) {
            size_t klen = p[off];
            off += 1 + klen;
            if (off >= len) return capped;
        }
        unsigned char *kindp = p + off;
        off += 1;
        long size = value_size(*kindp, p + off, len - off);
        if (size < 0 || (size_t)size > len - off) return capped; // librabbitmq will refuse it
        if (*kindp == 'F' || *kindp == 'A') {
            if (depth + 1 > max_depth) {
                *kindp = 'x';
                capped = 1;
            } else {
                capped |= scan_container(p + off + 4, (size_t)size - 4, *kindp == 'F', depth + 1, max_depth);
            }
        }
        off += (size_t)size;
    }
    return capped;
}

// A content header frame's payload: class, weight, body size, flags, properties.
static int scan_header_payload(unsigned char *p, size_t len, int max_depth) {
    if (len < 14) return 0;
    size_t off = 12;
    uint16_t flags = (uint16_t)((p[off] << 8) | p[off + 1]);
    uint16_t word = flags;
    off += 2;
    while (word & 1) { // continuation flag words
        if (off + 2 > len) return 0;
        word = (uint16_t)((p[off] << 8) | p[off + 1]);
        off += 2;
    }
    if (flags & (1u << 15)) { if (off >= len) return 0; off += 1 + p[off]; }
    if (flags & (1u << 14)) { if (off >= len) return 0; off += 1 + p[off]; }
    if (!(flags & (1u << 13)) || off + 4 > len) return 0;
    size_t tlen = be32(p + off);
    off += 4;
    if (tlen > len - off) return 0;
    return scan_container(p + off, tlen, 1, 1, max_depth);
}

static void record_header(struct crmq_guard *g, uint16_t channel, int capped) {
    if (g->fcount == g->fcap) {
        size_t ncap = g->fcap ? g->fcap * 2 : 256;
        unsigned char *nf = malloc(ncap);
        uint16_t *nc = malloc(ncap * sizeof(uint16_t));
        if (!nf || !nc) { free(nf); free(nc); return; }
        for (size_t i = 0; i < g->fcount; i++) {
            nf[i] = g->flags[(g->fhead + i) % g->fcap];
            nc[i] = g->channels[(g->fhead + i) % g->fcap];
        }
        free(g->flags);
        free(g->channels);
        g->flags = nf;
        g->channels = nc;
        g->fcap = ncap;
        g->fhead = 0;
    }
    size_t at = (g->fhead + g->fcount) % g->fcap;
    g->flags[at] = (unsigned char)capped;
    g->channels[at] = channel;
    g->fcount++;
    if (capped) g->capped_total++;
}

// Marks whole frames in [ready, end) as ready, scanning header frames.
static void scan_frames(struct crmq_guard *g) {
    while (!g->passthrough && g->end - g->ready >= 7) {
        unsigned char *f = g->buf + g->ready;
        uint32_t size = be32(f + 3);
        size_t whole = (size_t)size + 8;
        if (whole > g->cap) { // cannot hold it: librabbitmq will judge it
            g->passthrough = 1;
            break;
        }
        if (g->end - g->ready < whole) break;
        if (f[0] == AMQP_FRAME_HEADER) {
            uint16_t channel = (uint16_t)((f[1] << 8) | f[2]);
            record_header(g, channel, scan_header_payload(f + 7, size, g->max_depth));
        }
        g->ready += whole;
    }
    if (g->passthrough) g->ready = g->end;
}

static ssize_t guard_recv(void *socket, void *out, size_t len, int flags) {
    struct crmq_guard *g = guard_of(socket);
    if (g->ready == g->start) {
        if (g->start > 0) { // compact
            memmove(g->buf, g->buf + g->start, g->end - g->start);
            g->ready -= g->start;
            g->end -= g->start;
            g->start = 0;
        }
        while (g->ready == g->start) {
            size_t room = g->cap - g->end;
            if (room == 0) { g->passthrough = 1; g->ready = g->end; break; }
            ssize_t n = g->original->recv(socket, g->buf + g->end, room, flags);
            if (n <= 0) return n;
            g->end += (size_t)n;
            scan_frames(g);
        }
    }
    size_t n = g->ready - g->start;
    if (n > len) n = len;
    memcpy(out, g->buf + g->start, n);
    g->start += n;
    return (ssize_t)n;
}

static void guard_free(struct crmq_guard *g) {
    free(g->buf);
    free(g->flags);
    free(g->channels);
    free(g);
}

static void guard_delete(void *socket) {
    struct crmq_guard *g = guard_of(socket);
    guard_delete_fn original = g->original->delete_;
    // The original delete frees the socket; the class pointer is ours until then.
    *(const struct guard_socket_class **)socket = g->original;
    guard_free(g);
    original(socket);
}

int crmq_guard_install(amqp_socket_t *socket, int max_depth) {
    if (socket == NULL || max_depth < 1) return -1;
    if (amqp_version_number() < 0x000A00) return -2;
    struct crmq_guard *g = calloc(1, sizeof *g);
    if (!g) return -1;
    g->buf = malloc(GUARD_BUFFER);
    if (!g->buf) { free(g); return -1; }
    g->cap = GUARD_BUFFER;
    g->max_depth = max_depth;
    g->original = *(const struct guard_socket_class **)socket;
    g->klass = *g->original;
    g->klass.recv = guard_recv;
    g->klass.delete_ = guard_delete;
    *(struct guard_socket_class **)socket = &g->klass;
    if (amqp_socket_get_sockfd(socket) < -1) { // sanity: the class reads back
        *(const struct guard_socket_class **)socket = g->original;
        guard_free(g);
        return -3;
    }
    return 0;
}

static struct crmq_guard *installed(amqp_socket_t *socket) {
    if (socket == NULL) return NULL;
    struct guard_socket_class *k = *(struct guard_socket_class **)socket;
    return k->recv == guard_recv ? (struct crmq_guard *)k : NULL;
}

int crmq_guard_take_header(amqp_socket_t *socket, uint16_t channel) {
    struct crmq_guard *g = installed(socket);
    if (!g || g->fcount == 0) return 0;
    int capped = g->flags[g->fhead];
    uint16_t seen = g->channels[g->fhead];
    g->fhead = (g->fhead + 1) % g->fcap;
    g->fcount--;
    return seen == channel ? capped : 0;
}

size_t crmq_guard_buffered(amqp_socket_t *socket) {
    struct crmq_guard *g = installed(socket);
    return g ? g->ready - g->start : 0;
}

uint64_t crmq_guard_capped_total(amqp_socket_t *socket) {
    struct crmq_guard *g = installed(socket);
    return g ? g->capped_total : 0;
}
