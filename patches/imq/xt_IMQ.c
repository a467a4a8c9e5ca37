// SPDX-License-Identifier: GPL-2.0
/*
 * xt_IMQ: the IMQ target (iptables -t mangle ... -j IMQ --todev N), IPv4 and
 * IPv6, in PREROUTING and POSTROUTING. It only marks the packet and goes on
 * (XT_CONTINUE): imq queues it to imqN in its hook right after the mangle
 * table, so the rules after -j IMQ still run and their marks reach the qdisc.
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/netfilter/x_tables.h>
#include "imq.h"

static unsigned int imq_tg(struct sk_buff *skb, const struct xt_action_param *par)
{
	const struct xt_imq_info *info = par->targinfo;

	imq_mark(skb, info->todev);
	return XT_CONTINUE;
}

static int imq_tg_check(const struct xt_tgchk_param *par)
{
	const struct xt_imq_info *info = par->targinfo;

	if (info->todev >= imq_numdevs()) {
		pr_info_ratelimited("IMQ: --todev %u, but imq has %u devices (modprobe imq numdevs=N)\n",
				    info->todev, imq_numdevs());
		return -EINVAL;
	}
	return 0;
}

#define IMQ_TARGET(fam) {						\
	.name = "IMQ",							\
	.revision = 0,							\
	.family = fam,							\
	.target = imq_tg,						\
	.targetsize = sizeof(struct xt_imq_info),			\
	.table = "mangle",						\
	.hooks = (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_POST_ROUTING), \
	.checkentry = imq_tg_check,					\
	.me = THIS_MODULE,						\
}

static struct xt_target imq_tg_reg[] __read_mostly = {
	IMQ_TARGET(NFPROTO_IPV4),
	IMQ_TARGET(NFPROTO_IPV6),
};

static int __init imq_tg_init(void)
{
	return xt_register_targets(imq_tg_reg, ARRAY_SIZE(imq_tg_reg));
}

static void __exit imq_tg_exit(void)
{
	xt_unregister_targets(imq_tg_reg, ARRAY_SIZE(imq_tg_reg));
}

module_init(imq_tg_init);
module_exit(imq_tg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("IMQ target: queue packets to an imq device");
MODULE_ALIAS("ipt_IMQ");
MODULE_ALIAS("ip6t_IMQ");
