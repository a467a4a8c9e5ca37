/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imq: shared between the kernel modules (imq.ko, xt_IMQ.ko) and the iptables
 * extension (libxt_IMQ.so). The target's data is one unsigned int, as in the
 * public IMQ target, so a rule saved on an IMQ-patched kernel loads here too.
 */
#ifndef _IMQ_H
#define _IMQ_H

#define IMQ_MAX_DEVS 16

struct xt_imq_info {
	unsigned int todev;	/* queue to imq<todev> */
};

#ifdef __KERNEL__
struct sk_buff;
/* The IMQ target marks the packet; imq's hook after mangle queues it. */
void imq_mark(const struct sk_buff *skb, unsigned int todev);
unsigned int imq_numdevs(void);
#endif

#endif
