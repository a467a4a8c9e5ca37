// SPDX-License-Identifier: GPL-2.0
/*
 * sch_tdma: a TDMA qdisc. Packets leave only inside this station's slot of each frame:
 * a packet may be dequeued when
 *
 *	offset_ns <= now mod frame_ns < offset_ns + slot_ns
 *
 * where now is CLOCK_TAI in nanoseconds. Frames are counted from the TAI epoch, the same
 * instants as taprio's with base-time 0 and clockid CLOCK_TAI, so a station running this
 * qdisc and a hub running taprio share one frame grid when their clocks are synchronized
 * (PTP, or GPS with chrony setting the TAI offset). When frame_ns divides one second, the
 * TAI-UTC offset (a whole number of seconds) does not move the grid at all.
 *
 * The queue is a FIFO of at most `limit` packets; beyond that, new packets are dropped
 * (tail drop). While the gate is closed a qdisc watchdog (an hrtimer on CLOCK_TAI) wakes the
 * device at the next opening, and at least at every frame boundary, so that a schedule
 * changed at run time is picked up.
 *
 * Configuration: module parameters, in nanoseconds, readable and writable at run time under
 * /sys/module/sch_tdma/parameters/ (the qdisc takes no netlink options: `tc qdisc add dev X
 * root handle 1: tdma`). One schedule for every tdma qdisc of the host: a station has one
 * slot.
 *
 *   frame_ns   frame length                    1000 .. 100 s     default 100 ms
 *   slot_ns    this station's window           0 .. frame_ns     default 100 ms (always open)
 *                                              (0: the station is muted)
 *   offset_ns  window start after frame start  0 .. frame_ns - slot_ns   default 0
 *   limit      queue length in packets         1 .. 1048576      default 1000
 *   schedule   (read only) the schedule in force, and the next one (with the TAI instant
 *              it takes over) or a held one
 *
 * Run-time writes are staged, and read back at once; the staged schedule takes effect at
 * the first frame boundary (of the schedule in force) at least TDMA_SETTLE_NS after the
 * last write, so the back-to-back writes of a script take effect together, never one by
 * one. Each write is checked, and rejected with EINVAL when it cannot be right:
 *
 *   frame_ns   outside 1000 .. 100 s
 *   slot_ns    slot_ns > frame_ns (as staged)
 *   offset_ns  offset_ns + slot_ns > frame_ns (as staged)
 *
 * Write them in that order: frame, slot, offset (the order of qospolicy's boot script and
 * plan); any valid schedule can then follow any other. A frame_ns write is not checked
 * against the window, since the next writes may move it: until slot_ns and offset_ns fit
 * the new frame, the staged schedule is "held" (shown by the schedule parameter) and the
 * one in force stays. A limit write takes effect at once. At load time (modprobe or
 * insmod parameters) the values are checked together, and loading fails with EINVAL when
 * they do not fit.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#define TDMA_FRAME_MIN_NS 1000ULL
#define TDMA_FRAME_MAX_NS (100ULL * NSEC_PER_SEC)
#define TDMA_LIMIT_MAX (1U << 20)
/* Writes closer together than this belong to one change. */
#define TDMA_SETTLE_NS (10ULL * NSEC_PER_MSEC)

struct tdma_sched {
	u64 frame;
	u64 slot;
	u64 offset;
};

/* What was written (and is read back): the schedule from the next switch on. */
static struct tdma_sched tdma_staged = {
	.frame = 100 * NSEC_PER_MSEC,
	.slot = 100 * NSEC_PER_MSEC,
	.offset = 0,
};
/* The schedule in force. */
static struct tdma_sched tdma_active;
/* tdma_staged differs from tdma_active and takes over at tdma_switch_at (TAI ns). */
static bool tdma_pending;
static u64 tdma_switch_at;
static unsigned int tdma_limit = 1000;
/* False while the module loads (parameters of modprobe/insmod), true after init. */
static bool tdma_live;
static DEFINE_SPINLOCK(tdma_lock);

struct tdma_qdisc {
	struct qdisc_watchdog watchdog;
};

/* Does the schedule fit together? */
static bool tdma_fits(const struct tdma_sched *s)
{
	return s->frame >= TDMA_FRAME_MIN_NS && s->frame <= TDMA_FRAME_MAX_NS &&
	       s->slot <= s->frame && s->offset <= s->frame - s->slot;
}

/* Caller holds tdma_lock. */
static void tdma_promote(u64 now)
{
	if (tdma_pending && now >= tdma_switch_at) {
		tdma_active = tdma_staged;
		tdma_pending = false;
	}
}

/* The first multiple of frame at or after t. */
static u64 tdma_boundary_after(u64 t, u64 frame)
{
	u64 rem;

	div64_u64_rem(t, frame, &rem);
	return rem ? t - rem + frame : t;
}

static int tdma_sched_set(const char *val, const struct kernel_param *kp)
{
	struct tdma_sched s;
	u64 v, now;
	int err;

	err = kstrtou64(val, 10, &v);
	if (err)
		return err;
	if (!tdma_live) {
		/* Load time: tdma_module_init checks the three together. */
		*(u64 *)kp->arg = v;
		return 0;
	}

	spin_lock_bh(&tdma_lock);
	now = ktime_get_clocktai_ns();
	tdma_promote(now);
	s = tdma_staged;
	if (kp->arg == &tdma_staged.frame) {
		s.frame = v;
		if (v < TDMA_FRAME_MIN_NS || v > TDMA_FRAME_MAX_NS)
			err = -EINVAL;
	} else if (kp->arg == &tdma_staged.slot) {
		s.slot = v;
		if (v > s.frame)
			err = -EINVAL;
	} else {
		s.offset = v;
		if (s.slot > s.frame || v > s.frame - s.slot)
			err = -EINVAL;
	}
	if (!err) {
		tdma_staged = s;
		/* Pending only when it fits and changes something; a held schedule waits. */
		tdma_pending = tdma_fits(&s) && memcmp(&s, &tdma_active, sizeof(s)) != 0;
		if (tdma_pending)
			tdma_switch_at = tdma_boundary_after(now + TDMA_SETTLE_NS, tdma_active.frame);
	}
	spin_unlock_bh(&tdma_lock);
	return err;
}

static int tdma_sched_get(char *buffer, const struct kernel_param *kp)
{
	u64 v;

	spin_lock_bh(&tdma_lock);
	v = *(u64 *)kp->arg;
	spin_unlock_bh(&tdma_lock);
	return scnprintf(buffer, PAGE_SIZE, "%llu\n", v);
}

static const struct kernel_param_ops tdma_sched_ops = {
	.set = tdma_sched_set,
	.get = tdma_sched_get,
};

module_param_cb(frame_ns, &tdma_sched_ops, &tdma_staged.frame, 0644);
MODULE_PARM_DESC(frame_ns, "frame length in ns (default 100000000)");
module_param_cb(slot_ns, &tdma_sched_ops, &tdma_staged.slot, 0644);
MODULE_PARM_DESC(slot_ns, "this station's window in ns, 0 = muted (default: the whole frame)");
module_param_cb(offset_ns, &tdma_sched_ops, &tdma_staged.offset, 0644);
MODULE_PARM_DESC(offset_ns, "start of the window after the frame start, in ns (default 0)");

static int tdma_limit_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err = kstrtouint(val, 10, &v);

	if (err)
		return err;
	if (v < 1 || v > TDMA_LIMIT_MAX)
		return -EINVAL;
	WRITE_ONCE(tdma_limit, v);
	return 0;
}

static const struct kernel_param_ops tdma_limit_ops = {
	.set = tdma_limit_set,
	.get = param_get_uint,
};

module_param_cb(limit, &tdma_limit_ops, &tdma_limit, 0644);
MODULE_PARM_DESC(limit, "queue length in packets (default 1000)");

static int tdma_schedule_get(char *buffer, const struct kernel_param *kp)
{
	struct tdma_sched a, s;
	bool pending;
	u64 at;
	int n;

	spin_lock_bh(&tdma_lock);
	tdma_promote(ktime_get_clocktai_ns());
	a = tdma_active;
	s = tdma_staged;
	pending = tdma_pending;
	at = tdma_switch_at;
	spin_unlock_bh(&tdma_lock);
	n = scnprintf(buffer, PAGE_SIZE, "active frame_ns=%llu slot_ns=%llu offset_ns=%llu\n", a.frame, a.slot, a.offset);
	if (pending)
		n += scnprintf(buffer + n, PAGE_SIZE - n, "next frame_ns=%llu slot_ns=%llu offset_ns=%llu from_tai_ns=%llu\n",
			       s.frame, s.slot, s.offset, at);
	else if (!tdma_fits(&s))
		n += scnprintf(buffer + n, PAGE_SIZE - n, "held frame_ns=%llu slot_ns=%llu offset_ns=%llu (the window does not fit the frame)\n",
			       s.frame, s.slot, s.offset);
	return n;
}

static int tdma_schedule_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops tdma_schedule_ops = {
	.set = tdma_schedule_set,
	.get = tdma_schedule_get,
};

module_param_cb(schedule, &tdma_schedule_ops, NULL, 0444);
MODULE_PARM_DESC(schedule, "the schedule in force, and the next or held one (read only)");

/*
 * Is the gate open at now (TAI ns)? If not, *wake is when to look again: the next opening,
 * the next frame boundary or a pending switch, whichever comes first.
 */
static bool tdma_gate(u64 now, u64 *wake)
{
	struct tdma_sched s;
	u64 phase, start, next;
	bool pending;
	u64 switch_at;

	spin_lock_bh(&tdma_lock);
	tdma_promote(now);
	s = tdma_active;
	pending = tdma_pending;
	switch_at = tdma_switch_at;
	spin_unlock_bh(&tdma_lock);

	div64_u64_rem(now, s.frame, &phase);
	if (s.slot && phase >= s.offset && phase - s.offset < s.slot)
		return true;
	start = now - phase;
	next = start + s.frame;
	if (s.slot && phase < s.offset)
		next = start + s.offset;
	if (pending && switch_at < next)
		next = switch_at;
	*wake = next;
	return false;
}

static int tdma_enqueue(struct sk_buff *skb, struct Qdisc *sch, struct sk_buff **to_free)
{
	if (likely(sch->q.qlen < READ_ONCE(tdma_limit)))
		return qdisc_enqueue_tail(skb, sch);
	return qdisc_drop(skb, sch, to_free);
}

static struct sk_buff *tdma_dequeue(struct Qdisc *sch)
{
	struct tdma_qdisc *q = qdisc_priv(sch);
	u64 wake;

	if (!sch->q.qlen)
		return NULL;
	if (tdma_gate(ktime_get_clocktai_ns(), &wake))
		return qdisc_dequeue_head(sch);
	qdisc_watchdog_schedule_ns(&q->watchdog, wake);
	return NULL;
}

static struct sk_buff *tdma_peek(struct Qdisc *sch)
{
	u64 wake;

	if (!sch->q.qlen || !tdma_gate(ktime_get_clocktai_ns(), &wake))
		return NULL;
	return qdisc_peek_head(sch);
}

static int tdma_no_options(struct nlattr *opt, struct netlink_ext_ack *extack)
{
	if (opt && nla_len(opt)) {
		NL_SET_ERR_MSG(extack, "tdma takes no options: set frame_ns, slot_ns, offset_ns and limit under /sys/module/sch_tdma/parameters/");
		return -EINVAL;
	}
	return 0;
}

static int tdma_init(struct Qdisc *sch, struct nlattr *opt, struct netlink_ext_ack *extack)
{
	struct tdma_qdisc *q = qdisc_priv(sch);

	qdisc_watchdog_init_clockid(&q->watchdog, sch, CLOCK_TAI);
	return tdma_no_options(opt, extack);
}

static int tdma_change(struct Qdisc *sch, struct nlattr *opt, struct netlink_ext_ack *extack)
{
	return tdma_no_options(opt, extack);
}

static void tdma_reset(struct Qdisc *sch)
{
	struct tdma_qdisc *q = qdisc_priv(sch);

	qdisc_reset_queue(sch);
	qdisc_watchdog_cancel(&q->watchdog);
}

static void tdma_destroy(struct Qdisc *sch)
{
	struct tdma_qdisc *q = qdisc_priv(sch);

	qdisc_watchdog_cancel(&q->watchdog);
}

static struct Qdisc_ops tdma_qdisc_ops __read_mostly = {
	.id = "tdma",
	.priv_size = sizeof(struct tdma_qdisc),
	.enqueue = tdma_enqueue,
	.dequeue = tdma_dequeue,
	.peek = tdma_peek,
	.init = tdma_init,
	.change = tdma_change,
	.reset = tdma_reset,
	.destroy = tdma_destroy,
	.owner = THIS_MODULE,
};

static int __init tdma_module_init(void)
{
	if (!tdma_fits(&tdma_staged)) {
		pr_err("sch_tdma: frame_ns=%llu slot_ns=%llu offset_ns=%llu: need %llu <= frame_ns <= %llu, slot_ns <= frame_ns and offset_ns + slot_ns <= frame_ns\n",
		       tdma_staged.frame, tdma_staged.slot, tdma_staged.offset, TDMA_FRAME_MIN_NS, TDMA_FRAME_MAX_NS);
		return -EINVAL;
	}
	if (tdma_limit < 1 || tdma_limit > TDMA_LIMIT_MAX) {
		pr_err("sch_tdma: limit=%u: need 1 <= limit <= %u\n", tdma_limit, TDMA_LIMIT_MAX);
		return -EINVAL;
	}
	tdma_active = tdma_staged;
	tdma_live = true;
	return register_qdisc(&tdma_qdisc_ops);
}

static void __exit tdma_module_exit(void)
{
	unregister_qdisc(&tdma_qdisc_ops);
}

module_init(tdma_module_init);
module_exit(tdma_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TDMA qdisc: packets leave only inside this station's slot of each frame (CLOCK_TAI)");
MODULE_VERSION("0.1.0");
/* Kernels from 6.9 on ask for net-sch-KIND when a qdisc kind is unknown; 6.1 asks for sch_KIND. */
MODULE_ALIAS("net-sch-tdma");
