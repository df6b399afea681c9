/*
 * steer.c: which worker takes a new connection (reuseport_steering).
 *
 * Left alone, the kernel hashes each connection of an SO_REUSEPORT group
 * to one of its sockets, so a client's connections, and the packets of
 * one network queue, land on every worker alike.  Each answer then wakes
 * a process on another CPU: measured on loopback, 0.02 rescheduling
 * interrupts per answer and 30 % fewer answers a second than when each
 * client thread talks to one worker (docs/PERFORMANCE.md, issue 17).
 *
 * With "reuseport_steering cpu" the master attaches a small eBPF program
 * (BPF_PROG_TYPE_SK_REUSEPORT) to every listen address that has a socket
 * per worker.  For each new connection it looks at two candidates, the
 * socket of the worker in the slot of the CPU that took the connection's
 * first packet, and the socket the kernel's hash names, and takes the
 * first unless its worker holds clearly more connections than the
 * second's: locality while the load is even, the power of two choices
 * when it is not (all packets on one CPU, say, from a NIC with one
 * queue).  The load is a shared array, one cell per worker slot: the
 * program adds one for each connection it places, and each worker writes
 * its real count whenever a connection comes or goes, so the cells
 * never drift.
 *
 * The program is 49 instructions written out here rather than built
 * from C with clang and loaded with libbpf: that would add a compiler
 * for another target and a library to the build for three system calls.
 * Loading it needs CAP_BPF (the master starts as root); where the kernel
 * refuses, the master says so once and the kernel's hash stays.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/bpf.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "master/master.h"

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif

/* One cell per worker slot; the workers directive allows 1,024. */
#define STEER_SLOTS	1024
#define STEER_LOADS_SIZE (STEER_SLOTS * sizeof(uint32_t))
/* The local worker keeps a connection unless it holds more than the
 * other candidate plus an eighth plus this many. */
#define STEER_SLACK	8
#define STEER_MAX_INSNS	64
#define STEER_LOG_SIZE	16384
#define STEER_BUSY_TRIES	100
#define STEER_BUSY_WAIT_US	10000

/* Registers the program uses (eBPF calling convention: r1-r5 arguments
 * and scratch, r6-r9 kept across calls, r10 the frame pointer). */
enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

struct steer_prog {
	struct bpf_insn insn[STEER_MAX_INSNS];
	int n;
};

static long
steer_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int
steer_emit(struct steer_prog *p, uint8_t code, int dst, int src,
    int16_t off, int32_t imm)
{
	struct bpf_insn *i = &p->insn[p->n++];

	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst;
	i->src_reg = src;
	i->off = off;
	i->imm = imm;
	return p->n - 1;
}

/* dst = the map with descriptor fd (a 64-bit load over two slots). */
static void
steer_emit_map(struct steer_prog *p, int dst, int fd)
{
	steer_emit(p, BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_FD, 0,
	    fd);
	steer_emit(p, 0, 0, 0, 0, 0);
}

/* Sets the jump at index `at` to land on the next instruction. */
static void
steer_land(struct steer_prog *p, int at)
{
	p->insn[at].off = (int16_t)(p->n - at - 1);
}

/*
 * The program, for a group of `nfds` sockets where socket j belongs to
 * the worker in slot j % nworkers (see listen_worker_sockets):
 *
 *	local = cpu % nfds; hashed = ctx->hash % nfds;
 *	loads = the array's only value (STEER_SLOTS cells);
 *	a = &loads[local % nworkers]; b = &loads[hashed % nworkers];
 *	pick = *a > *b + *b / 8 + SLACK ? hashed : local;
 *	atomically add 1 to pick's cell; select socket pick; pass.
 *
 * Whatever fails (no value, no socket at pick) passes without a choice,
 * and the kernel falls back to its hash.
 */
static void
steer_build(struct steer_prog *p, int loads_fd, int socks_fd,
    uint32_t nfds, uint32_t nworkers)
{
	int no_loads, too_big_a, too_big_b, to_hashed, to_select;

	p->n = 0;
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0);
	steer_emit(p, BPF_LDX | BPF_MEM | BPF_W, R7, R6,
	    offsetof(struct sk_reuseport_md, hash), 0);
	steer_emit(p, BPF_JMP | BPF_CALL, 0, 0, 0,
	    BPF_FUNC_get_smp_processor_id);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R8, R0, 0, 0);
	steer_emit(p, BPF_ALU | BPF_MOD | BPF_K, R8, 0, 0, (int32_t)nfds);
	steer_emit(p, BPF_ALU | BPF_MOD | BPF_K, R7, 0, 0, (int32_t)nfds);

	/* loads = lookup(loads map, key 0) */
	steer_emit(p, BPF_ST | BPF_MEM | BPF_W, R10, 0, -4, 0);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R2, R10, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, -4);
	steer_emit_map(p, R1, loads_fd);
	steer_emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	no_loads = steer_emit(p, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R9, R0, 0, 0);

	/* r1 = slot of local, r2 = slot of hashed; bounded for the
	 * verifier, then turned into addresses of their cells */
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R8, 0, 0);
	steer_emit(p, BPF_ALU | BPF_MOD | BPF_K, R1, 0, 0, (int32_t)nworkers);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R2, R7, 0, 0);
	steer_emit(p, BPF_ALU | BPF_MOD | BPF_K, R2, 0, 0, (int32_t)nworkers);
	too_big_a = steer_emit(p, BPF_JMP | BPF_JGT | BPF_K, R1, 0, 0,
	    STEER_SLOTS - 1);
	too_big_b = steer_emit(p, BPF_JMP | BPF_JGT | BPF_K, R2, 0, 0,
	    STEER_SLOTS - 1);
	steer_emit(p, BPF_ALU64 | BPF_LSH | BPF_K, R1, 0, 0, 2);
	steer_emit(p, BPF_ALU64 | BPF_LSH | BPF_K, R2, 0, 0, 2);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R4, R9, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_X, R4, R1, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R5, R9, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_X, R5, R2, 0, 0);

	/* r1 = *a; r2 = *b + *b / 8 + SLACK */
	steer_emit(p, BPF_LDX | BPF_MEM | BPF_W, R1, R4, 0, 0);
	steer_emit(p, BPF_LDX | BPF_MEM | BPF_W, R2, R5, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_RSH | BPF_K, R3, 0, 0, 3);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_X, R2, R3, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, STEER_SLACK);
	to_hashed = steer_emit(p, BPF_JMP | BPF_JGT | BPF_X, R1, R2, 0, 0);

	/* keep local */
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, 1);
	steer_emit(p, BPF_STX | BPF_ATOMIC | BPF_W, R4, R3, 0, BPF_ADD);
	steer_land(p, no_loads);
	steer_emit(p, BPF_STX | BPF_MEM | BPF_W, R10, R8, -8, 0);
	to_select = steer_emit(p, BPF_JMP | BPF_JA, 0, 0, 0, 0);

	/* take the hashed one */
	steer_land(p, to_hashed);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, 1);
	steer_emit(p, BPF_STX | BPF_ATOMIC | BPF_W, R5, R3, 0, BPF_ADD);
	steer_emit(p, BPF_STX | BPF_MEM | BPF_W, R10, R7, -8, 0);

	/* sk_select_reuseport(ctx, socks, &pick, 0) */
	steer_land(p, to_select);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R6, 0, 0);
	steer_emit_map(p, R2, socks_fd);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R3, R10, 0, 0);
	steer_emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R3, 0, 0, -8);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R4, 0, 0, 0);
	steer_emit(p, BPF_JMP | BPF_CALL, 0, 0, 0,
	    BPF_FUNC_sk_select_reuseport);

	steer_land(p, too_big_a);
	steer_land(p, too_big_b);
	steer_emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, SK_PASS);
	steer_emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int
steer_map_create(enum bpf_map_type type, uint32_t value_size,
    uint32_t entries, uint32_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = sizeof(uint32_t);
	attr.value_size = value_size;
	attr.max_entries = entries;
	attr.map_flags = flags;
	return (int)steer_bpf(BPF_MAP_CREATE, &attr);
}

static int
steer_map_set_socket(int map_fd, uint32_t key, int sock_fd)
{
	union bpf_attr attr;
	uint64_t value = (uint64_t)sock_fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map_fd;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)&value;
	attr.flags = BPF_ANY;
	return (int)steer_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

/*
 * A socket is in one array at a time.  After a binary upgrade the old
 * master has let go of its arrays (steer_release), but the kernel frees
 * them only after an RCU grace period, so the new master may find the
 * socket still taken for some milliseconds: it waits up to a second.
 */
static int
steer_set_socket(int map_fd, uint32_t key, int sock_fd)
{
	int tries;

	for (tries = 0; tries < STEER_BUSY_TRIES; tries++) {
		if (steer_map_set_socket(map_fd, key, sock_fd) == 0)
			return 0;
		if (errno != EBUSY)
			return -1;
		usleep(STEER_BUSY_WAIT_US);
	}
	return -1;
}

/* Loads the program; on refusal logs the verifier's verdict. */
static int
steer_prog_load(const struct steer_prog *p, const char *what)
{
	static char vlog[STEER_LOG_SIZE];
	union bpf_attr attr;
	char *nl;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
	attr.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
	attr.insns = (uint64_t)(uintptr_t)p->insn;
	attr.insn_cnt = (uint32_t)p->n;
	attr.license = (uint64_t)(uintptr_t)"BSD";
	fd = (int)steer_bpf(BPF_PROG_LOAD, &attr);
	if (fd != -1 || errno == EPERM)
		return fd;
	/* Again with the verifier's log, only to say why. */
	vlog[0] = '\0';
	attr.log_buf = (uint64_t)(uintptr_t)vlog;
	attr.log_size = sizeof(vlog);
	attr.log_level = 1;
	fd = (int)steer_bpf(BPF_PROG_LOAD, &attr);
	if (fd != -1)
		return fd;
	if (vlog[0] != '\0') {
		/* The verifier's verdict is on its last lines. */
		size_t len = strlen(vlog);

		while (len > 0 && vlog[len - 1] == '\n')
			vlog[--len] = '\0';
		nl = strrchr(vlog, '\n');
		log_warnx("reuseport_steering: the kernel refused the program "
		    "for %s: %s", what, nl != NULL ? nl + 1 : vlog);
		errno = EINVAL;
	}
	return -1;
}

/* The shared load array, made and mapped once per master. */
static int
steer_loads_open(struct master *m)
{
	void *mem;

	if (m->steer_loads != NULL)
		return 0;
	m->steer_loads_fd = steer_map_create(BPF_MAP_TYPE_ARRAY,
	    STEER_LOADS_SIZE, 1, BPF_F_MMAPABLE);
	if (m->steer_loads_fd == -1)
		return -1;
	mem = mmap(NULL, STEER_LOADS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    m->steer_loads_fd, 0);
	if (mem == MAP_FAILED) {
		int saved = errno;

		close(m->steer_loads_fd);
		m->steer_loads_fd = -1;
		errno = saved;
		return -1;
	}
	m->steer_loads = mem;
	return 0;
}

/* Puts l's sockets not yet in its array there (the array lives as long
 * as the listener: sockets are only ever added, see listen.c). */
static int
steer_fill(struct master_listener *l)
{
	if (l->steer_socks_fd == -1) {
		l->steer_socks_fd = steer_map_create(
		    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, sizeof(uint64_t),
		    STEER_SLOTS, 0);
		if (l->steer_socks_fd == -1)
			return -1;
		l->steer_inserted = 0;
	}
	while (l->steer_inserted < l->nfds) {
		if (steer_set_socket(l->steer_socks_fd,
		    (uint32_t)l->steer_inserted,
		    l->fds[l->steer_inserted]) == -1)
			return -1;
		l->steer_inserted++;
	}
	return 0;
}

static int
steer_attach(struct master *m, struct master_listener *l, int nworkers)
{
	struct steer_prog prog;
	int fd;

	if (steer_fill(l) == -1)
		return -1;
	steer_build(&prog, m->steer_loads_fd, l->steer_socks_fd,
	    (uint32_t)l->nfds, (uint32_t)nworkers);
	fd = steer_prog_load(&prog, l->text);
	if (fd == -1)
		return -1;
	/* Attaching to one socket sets the program of its whole group and
	 * replaces the one before. */
	if (setsockopt(l->fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd,
	    sizeof(fd)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	l->steered = 1;
	return 0;
}

static void
steer_detach(struct master_listener *l)
{
	int unused = 0;

	if (!l->steered)
		return;
	if (setsockopt(l->fds[0], SOL_SOCKET, SO_DETACH_REUSEPORT_BPF,
	    &unused, sizeof(unused)) == -1 && errno != ENOENT)
		log_warn("reuseport_steering off: detaching the program of %s",
		    l->text);
	l->steered = 0;
}

/*
 * Makes every listener's steering match m->conf, after the listeners
 * have been reconciled with it (start, reload).  Never fails: a listener
 * the kernel will not steer keeps its hash, said once per address.
 */
void
steer_apply(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++) {
		struct master_listener *l = &m->listeners[i];
		int was = l->steered;

		/* One socket (systemd's) or steering off: the hash. */
		if (!m->conf->reuseport_steering || l->shared || l->nfds < 2) {
			steer_detach(l);
			continue;
		}
		if (steer_loads_open(m) == 0 &&
		    steer_attach(m, l, m->conf->workers) == 0) {
			if (!was)
				log_info("reuseport_steering cpu on %s",
				    l->text);
			continue;
		}
		/* Not a warning: without CAP_BPF this is the normal case. */
		if (!l->steer_refused)
			log_info("reuseport_steering: %s keeps the kernel's "
			    "hash: %s", l->text, strerror(errno));
		l->steer_refused = 1;
	}
}

/* The cell worker `slot` writes its connection count to, or NULL. */
uint32_t *
steer_load_cell(const struct master *m, int slot)
{
	if (m->steer_loads == NULL || slot < 0 || slot >= STEER_SLOTS)
		return NULL;
	return &m->steer_loads[slot];
}

/*
 * Before a binary upgrade: the new master makes arrays of its own, and a
 * socket can be in only one, so this master detaches its program and
 * lets go of its arrays; the kernel's hash serves meanwhile.  If the
 * upgrade fails, steer_apply attaches them again.
 */
void
steer_release(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++) {
		steer_detach(&m->listeners[i]);
		steer_close_listener(&m->listeners[i]);
	}
}

void
steer_close_listener(struct master_listener *l)
{
	if (l->steer_socks_fd != -1)
		close(l->steer_socks_fd);
	l->steer_socks_fd = -1;
	l->steer_inserted = 0;
	l->steered = 0;
}

/* In a new worker (and at the end): the descriptors go, the mapping of
 * the loads stays. */
void
steer_close_fds(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++)
		steer_close_listener(&m->listeners[i]);
	if (m->steer_loads_fd != -1)
		close(m->steer_loads_fd);
	m->steer_loads_fd = -1;
}

void
steer_close(struct master *m)
{
	if (m->steer_loads != NULL)
		munmap(m->steer_loads, STEER_LOADS_SIZE);
	m->steer_loads = NULL;
	steer_close_fds(m);
}
