/* SPDX-License-Identifier: MIT */
/* proccn-bpf.c: the proc connector's kernel-side filter with the monitor's foreign set in it
 * (sources.h, proccn_filter_foreign). The classic filter (netlink.c) can only drop by kind;
 * this one also drops every event of a foreign process (pidset.h), so that another container's
 * busy build does not wake this container's supervisor at all. The set is a bitmap in a BPF
 * array map that both sides share: the monitor marks a process foreign when its cgroup says so,
 * the program marks the children of foreign processes and forgets a foreign process when it
 * ends (a child may reuse its pid later), in the kernel's order of events. */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor/sources.h"
#include "util/cleanup.h"

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s)     INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i)     INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU_REG(op, d, s) INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o)  INSN(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0)
#define STX(sz, d, s, o)  INSN(BPF_STX | (sz) | BPF_MEM, d, s, o, 0)
#define ATOMIC(op, d, s)  INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, 0, op)
#define CALL(f)           INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()            INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The event's first 32 bytes go to the stack at fp-32: what, cpu, timestamp, then the first
 * four words of event_data (fork: parent pid, parent tgid, child pid, child tgid; exec and
 * exit: pid, tgid). */
#define EV_OFF (NLMSG_HDRLEN + offsetof(struct cn_msg, data))
#define S_WHAT (-32)
#define S_D(n) (-16 + 4 * (n))
#define S_KEY  (-36)

/* Labels, resolved when the program is assembled. */
enum { L_DROP, L_KEEP, L_FORK, L_EXEC, L_EXIT, L_F1, L_F2, L_FCLR, L_N };

struct prog {
	struct bpf_insn code[128];
	int n;
	int at[L_N];
	struct {
		int insn, label;
	} fix[32];
	int n_fix;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	if (p->n < (int)ELEMENTSOF(p->code))
		p->code[p->n] = i;
	p->n++;
}

static void label(struct prog *p, int l)
{
	p->at[l] = p->n;
}

/* A jump to a label: cls BPF_JMP (64-bit compare; the verifier tracks a NULL check only so)
 * or BPF_JMP32, with an immediate, or with a register (reg >= 0); op BPF_JA: always. */
static void jump(struct prog *p, uint8_t cls, uint8_t op, uint8_t dst, int imm, int reg, int l)
{
	if (p->n_fix < (int)ELEMENTSOF(p->fix))
		p->fix[p->n_fix++] = (typeof(p->fix[0])){p->n, l};
	if (op == BPF_JA)
		emit(p, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0));
	else if (reg >= 0)
		emit(p, INSN(cls | op | BPF_X, dst, (uint8_t)reg, 0, 0));
	else
		emit(p, INSN(cls | op | BPF_K, dst, 0, 0, imm));
}

#define J(op, dst, imm, l)    jump(p, BPF_JMP, op, dst, imm, -1, l)
#define J32(op, dst, imm, l)  jump(p, BPF_JMP32, op, dst, imm, -1, l)
#define JREG(op, dst, reg, l) jump(p, BPF_JMP, op, dst, 0, reg, l)
#define GOTO(l)               jump(p, BPF_JMP, BPF_JA, 0, 0, -1, l)

/* r0 = the map's word holding pid (in r<pid>, a callee-saved register), or NULL; r9 = its bit. */
static void word_of(struct prog *p, int map_fd, uint8_t pid)
{
	emit(p, MOV_REG(1, pid));
	emit(p, ALU_IMM(BPF_RSH, 1, 6));
	emit(p, STX(BPF_W, BPF_REG_10, 1, S_KEY));
	emit(p, INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd));
	emit(p, INSN(0, 0, 0, 0, 0));
	emit(p, MOV_REG(2, BPF_REG_10));
	emit(p, ALU_IMM(BPF_ADD, 2, S_KEY));
	emit(p, CALL(BPF_FUNC_map_lookup_elem));
	emit(p, MOV_IMM(9, 1));
	emit(p, MOV_REG(1, pid));
	emit(p, ALU_IMM(BPF_AND, 1, 63));
	emit(p, ALU_REG(BPF_LSH, 9, 1));
}

/* r1 = the word's bit (r0 must not be NULL). */
static void test_bit(struct prog *p)
{
	emit(p, LDX(BPF_DW, 1, 0, 0));
	emit(p, ALU_REG(BPF_AND, 1, 9));
}

static void clear_bit(struct prog *p)
{
	emit(p, ALU_IMM(BPF_XOR, 9, -1));
	emit(p, ATOMIC(BPF_AND, 0, 9));
}

static int assemble(struct prog *p, int map_fd)
{
	/* the event onto the stack: bpf_skb_load_bytes(skb, offset, fp-32, 32) */
	emit(p, MOV_REG(6, 1));
	emit(p, MOV_IMM(2, (int)EV_OFF));
	emit(p, MOV_REG(3, BPF_REG_10));
	emit(p, ALU_IMM(BPF_ADD, 3, S_WHAT));
	emit(p, MOV_IMM(4, 32));
	emit(p, CALL(BPF_FUNC_skb_load_bytes));
	J(BPF_JNE, 0, 0, L_DROP); /* too short: the ack of our request */
	emit(p, LDX(BPF_W, 7, BPF_REG_10, S_WHAT));
	J32(BPF_JEQ, 7, PROC_EVENT_FORK, L_FORK);
	J32(BPF_JEQ, 7, PROC_EVENT_EXEC, L_EXEC);
	J32(BPF_JEQ, 7, (int)PROC_EVENT_EXIT, L_EXIT);
	label(p, L_DROP);
	emit(p, MOV_IMM(0, 0));
	emit(p, EXIT());
	label(p, L_KEEP);
	emit(p, MOV_IMM(0, -1));
	emit(p, EXIT());

	/* a fork: of a process (not a thread); a foreign parent makes a foreign child, dropped;
	 * any other child is not foreign, whatever its pid was */
	label(p, L_FORK);
	emit(p, LDX(BPF_W, 7, BPF_REG_10, S_D(3)));
	emit(p, LDX(BPF_W, 1, BPF_REG_10, S_D(2)));
	JREG(BPF_JNE, 1, 7, L_DROP);
	emit(p, LDX(BPF_W, 8, BPF_REG_10, S_D(1)));
	word_of(p, map_fd, 8);
	emit(p, MOV_IMM(6, 0));
	J(BPF_JEQ, 0, 0, L_F1);
	test_bit(p);
	J(BPF_JEQ, 1, 0, L_F1);
	emit(p, MOV_IMM(6, 1));
	label(p, L_F1);
	word_of(p, map_fd, 7);
	J(BPF_JNE, 0, 0, L_F2);
	J(BPF_JEQ, 6, 0, L_KEEP);
	GOTO(L_DROP);
	label(p, L_F2);
	J(BPF_JEQ, 6, 0, L_FCLR);
	emit(p, ATOMIC(BPF_OR, 0, 9));
	GOTO(L_DROP);
	label(p, L_FCLR);
	test_bit(p);
	J(BPF_JEQ, 1, 0, L_KEEP);
	clear_bit(p);
	GOTO(L_KEEP);

	/* an exec: dropped when the process is foreign */
	label(p, L_EXEC);
	emit(p, LDX(BPF_W, 7, BPF_REG_10, S_D(1)));
	word_of(p, map_fd, 7);
	J(BPF_JEQ, 0, 0, L_KEEP);
	test_bit(p);
	J(BPF_JEQ, 1, 0, L_KEEP);
	GOTO(L_DROP);

	/* an exit: of a process (not a thread); a foreign one is forgotten and dropped */
	label(p, L_EXIT);
	emit(p, LDX(BPF_W, 7, BPF_REG_10, S_D(1)));
	emit(p, LDX(BPF_W, 1, BPF_REG_10, S_D(0)));
	JREG(BPF_JNE, 1, 7, L_DROP);
	word_of(p, map_fd, 7);
	J(BPF_JEQ, 0, 0, L_KEEP);
	test_bit(p);
	J(BPF_JEQ, 1, 0, L_KEEP);
	clear_bit(p);
	GOTO(L_DROP);

	if (p->n > (int)ELEMENTSOF(p->code) || p->n_fix >= (int)ELEMENTSOF(p->fix))
		return -E2BIG;
	for (int i = 0; i < p->n_fix; i++)
		p->code[p->fix[i].insn].off =
		        (int16_t)(p->at[p->fix[i].label] - p->fix[i].insn - 1);
	return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return r < 0 ? -errno : (int)r;
}

int proccn_filter_foreign(int fd, size_t pid_max, uint64_t **ret_words, size_t *ret_bytes)
{
	_cleanup_close_ int map = -EBADF, prog = -EBADF;
	union bpf_attr a;
	struct prog p = {0};
	size_t words = pid_max / 64 + 1, bytes;
	long page = sysconf(_SC_PAGESIZE);
	void *mem;
	int r;

	if (words > UINT32_MAX)
		return -E2BIG;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = (uint32_t)words;
	a.map_flags = BPF_F_MMAPABLE;
	map = bpf(BPF_MAP_CREATE, &a);
	if (map < 0)
		return map;
	bytes = (words * 8 + (size_t)page - 1) / (size_t)page * (size_t)page;
	r = assemble(&p, map);
	if (r < 0)
		return r;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)p.code;
	a.insn_cnt = (uint32_t)p.n;
	a.license = (uint64_t)(uintptr_t) "Dual MIT/GPL";
	prog = bpf(BPF_PROG_LOAD, &a);
	if (prog < 0)
		return prog;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map, 0);
	if (mem == MAP_FAILED)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)) < 0) {
		r = -errno;
		munmap(mem, bytes);
		return r;
	}
	/* the program holds the map, the mapping holds its memory: both fds can go */
	*ret_words = mem;
	*ret_bytes = bytes;
	return 0;
}
