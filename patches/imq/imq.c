// SPDX-License-Identifier: GPL-2.0
/*
 * imq: intermediate queueing devices for a stock kernel, as a module.
 *
 * The IMQ target (xt_IMQ) marks a packet in the mangle table; imq's own hook,
 * right after mangle in PREROUTING and POSTROUTING, answers NF_QUEUE with the
 * device number in the verdict's upper bits. Netfilter hands the packet to the
 * queue handler registered here, which sends it through imqN's qdisc with
 * dev_queue_xmit(). When the qdisc releases it, imqN's xmit puts the packet
 * back on its way with nf_reinject(NF_ACCEPT): netfilter goes on with the hook
 * after imq's. The idea is linuximq's (https://github.com/imq/linuximq); the
 * code is new and patches nothing: no field is added to sk_buff.
 *
 * While the packet sits in the qdisc:
 *  - its control block (IPCB/IP6CB, which the qdisc overwrites) is saved and
 *    restored, and so are skb->dev, the mac header offset and queue_mapping;
 *  - the last 8 bytes of skb->cb (past struct qdisc_skb_cb and tc_skb_cb) hold
 *    a tag: a magic and an id in imq_pkts, which maps it to what was saved;
 *  - skb->destructor is imq's (the original is saved and chained): a packet
 *    the qdisc drops frees its nf_queue_entry, so nothing leaks;
 *  - imq devices offer every GSO feature, so a GSO packet stays whole.
 *
 * Netfilter has one queue handler (nfnetlink_queue takes it when loaded): imq
 * refuses to load while nfnetlink_queue is loaded, and refuses to let it load
 * while imq is.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/if_arp.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include <linux/xarray.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/netfilter/nf_queue.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>
#include "imq.h"

/* Queue numbers imq answers to: IMQ_QUEUE_BASE + device. NFQUEUE rules use low
 * numbers; a packet they send here without nfnetlink_queue is refused (-ESRCH),
 * as it would be with no handler at all. */
#define IMQ_QUEUE_BASE 0xfe00
#define IMQ_TAG_MAGIC 0x494d5121u
#define IMQ_FEATURES (NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | \
		      NETIF_F_HIGHDMA | NETIF_F_GSO_SOFTWARE | NETIF_F_GSO_ENCAP_ALL | \
		      NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX)

static int numdevs = 2;
/* Permission 0, like IMQ's: not shown in sysfs. */
module_param(numdevs, int, 0);
MODULE_PARM_DESC(numdevs, "number of imq devices, imq0..imqN-1 (2-16, default 2)");

struct imq_priv {
	atomic64_t packets, bytes, dropped;
};

/* What is saved while a packet is in the qdisc. */
struct imq_pkt {
	struct nf_queue_entry *entry;
	struct sk_buff *skb;
	void (*destructor)(struct sk_buff *skb);
	struct net_device *dev;
	unsigned int gen;
	u16 mac_header;
	u16 queue_mapping;
	u8 imq;
	char cb[sizeof_field(struct sk_buff, cb)];
};

struct imq_tag {
	u32 magic;
	u32 id;
};

#define IMQ_TAG_OFF (sizeof_field(struct sk_buff, cb) - sizeof(struct imq_tag))
static_assert(IMQ_TAG_OFF >= sizeof(struct qdisc_skb_cb) + 8);

static struct net_device __rcu *imq_devs[IMQ_MAX_DEVS];
static DEFINE_XARRAY_FLAGS(imq_pkts, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
static u32 imq_next_id;
/* Bumped when netfilter's hooks change (nf_hook_drop): a queued packet's hook
 * index may then point elsewhere, so packets queued before are dropped. */
static atomic_t imq_gen = ATOMIC_INIT(0);

static inline struct imq_tag *imq_tag(struct sk_buff *skb)
{
	return (struct imq_tag *)(skb->cb + IMQ_TAG_OFF);
}

/* Takes the saved state of skb out of imq_pkts, or NULL when skb is not one
 * imq queued (a copy or segment the qdisc made, whose original was freed). */
static struct imq_pkt *imq_take(struct sk_buff *skb)
{
	struct imq_tag *tag = imq_tag(skb);
	struct imq_pkt *pkt;
	unsigned long flags;

	if (tag->magic != IMQ_TAG_MAGIC)
		return NULL;
	xa_lock_irqsave(&imq_pkts, flags);
	pkt = xa_load(&imq_pkts, tag->id);
	if (pkt && pkt->skb == skb)
		__xa_erase(&imq_pkts, tag->id);
	else
		pkt = NULL;
	xa_unlock_irqrestore(&imq_pkts, flags);
	return pkt;
}

/* Puts back what the trip through the qdisc changed. */
static void imq_restore(struct sk_buff *skb, struct imq_pkt *pkt)
{
	memcpy(skb->cb, pkt->cb, sizeof(skb->cb));
	skb->destructor = pkt->destructor;
	skb->dev = pkt->dev;
	skb->mac_header = pkt->mac_header;
	skb->queue_mapping = pkt->queue_mapping;
}

static void imq_count_drop(unsigned int n)
{
	struct net_device *dev;

	rcu_read_lock();
	dev = rcu_dereference(imq_devs[n]);
	if (dev)
		atomic64_inc(&((struct imq_priv *)netdev_priv(dev))->dropped);
	rcu_read_unlock();
}

/* The qdisc freed a packet without releasing it (a drop, a reset, the device
 * going away): free its queue entry and run the original destructor. */
static void imq_skb_destructor(struct sk_buff *skb)
{
	struct imq_pkt *pkt = imq_take(skb);

	if (WARN_ON_ONCE(!pkt))
		return;
	skb->destructor = pkt->destructor;
	if (skb->destructor)
		skb->destructor(skb);
	imq_count_drop(pkt->imq);
	nf_queue_entry_free(pkt->entry);
	kfree(pkt);
}

/* ---- the mark: from the IMQ target to imq's hook after mangle ----
 * The target runs inside the mangle table's hook and imq's hook runs next, in
 * the same call on the same CPU, so a per-CPU slot carries the device number
 * (one slot for task context, one for softirqs, which may interrupt a task
 * between the two hooks). A hook just before mangle clears the slot, so a
 * packet that hit the target and was then dropped leaves nothing behind. */
struct imq_slot {
	const struct sk_buff *skb;
	unsigned int todev;
};
struct imq_slots {
	struct imq_slot s[2];
};
static DEFINE_PER_CPU(struct imq_slots, imq_slots);

static inline struct imq_slot *imq_slot_get(void)
{
	return &get_cpu_ptr(&imq_slots)->s[in_task() ? 0 : 1];
}

void imq_mark(const struct sk_buff *skb, unsigned int todev)
{
	struct imq_slot *slot = imq_slot_get();

	slot->skb = skb;
	slot->todev = todev;
	put_cpu_ptr(&imq_slots);
}
EXPORT_SYMBOL_GPL(imq_mark);

unsigned int imq_numdevs(void)
{
	return numdevs;
}
EXPORT_SYMBOL_GPL(imq_numdevs);

static unsigned int imq_clear_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	imq_slot_get()->skb = NULL;
	put_cpu_ptr(&imq_slots);
	return NF_ACCEPT;
}

static unsigned int imq_queue_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct imq_slot *slot = imq_slot_get();
	bool marked = slot->skb == skb;
	unsigned int todev = slot->todev;

	slot->skb = NULL;
	put_cpu_ptr(&imq_slots);
	if (!marked)
		return NF_ACCEPT;
	/* Bypass: a missing or down device lets the packet pass, as on IMQ. */
	return NF_QUEUE_NR(IMQ_QUEUE_BASE + todev) | NF_VERDICT_FLAG_QUEUE_BYPASS;
}

#define IMQ_HOOKS(family, num, mangle)							\
	{ .hook = imq_clear_hook, .pf = family, .hooknum = num, .priority = (mangle) - 1 },	\
	{ .hook = imq_queue_hook, .pf = family, .hooknum = num, .priority = (mangle) + 1 }

static const struct nf_hook_ops imq_hook_ops[] = {
	IMQ_HOOKS(NFPROTO_IPV4, NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE),
	IMQ_HOOKS(NFPROTO_IPV4, NF_INET_POST_ROUTING, NF_IP_PRI_MANGLE),
	IMQ_HOOKS(NFPROTO_IPV6, NF_INET_PRE_ROUTING, NF_IP6_PRI_MANGLE),
	IMQ_HOOKS(NFPROTO_IPV6, NF_INET_POST_ROUTING, NF_IP6_PRI_MANGLE),
};

/* ---- the queue handler: into the qdisc ---- */
static int imq_outfn(struct nf_queue_entry *entry, unsigned int queuenum)
{
	struct sk_buff *skb = entry->skb;
	unsigned int n = queuenum - IMQ_QUEUE_BASE;
	struct net_device *dev;
	struct imq_pkt *pkt;
	unsigned long flags;
	u32 id;
	int err;

	if (queuenum < IMQ_QUEUE_BASE || n >= numdevs)
		return -ESRCH;
	dev = rcu_dereference(imq_devs[n]);
	if (!dev || !netif_running(dev))
		return -ESRCH;

	pkt = kmalloc(sizeof(*pkt), GFP_ATOMIC);
	if (!pkt)
		return -ENOMEM;
	pkt->entry = entry;
	pkt->skb = skb;
	pkt->destructor = skb->destructor;
	pkt->dev = skb->dev;
	pkt->gen = atomic_read(&imq_gen);
	pkt->mac_header = skb->mac_header;
	pkt->queue_mapping = skb->queue_mapping;
	pkt->imq = n;
	memcpy(pkt->cb, skb->cb, sizeof(skb->cb));

	xa_lock_irqsave(&imq_pkts, flags);
	err = __xa_alloc_cyclic(&imq_pkts, &id, pkt, xa_limit_32b, &imq_next_id, GFP_ATOMIC);
	xa_unlock_irqrestore(&imq_pkts, flags);
	if (err < 0) {
		kfree(pkt);
		return err;
	}
	imq_tag(skb)->magic = IMQ_TAG_MAGIC;
	imq_tag(skb)->id = id;
	skb->destructor = imq_skb_destructor;
	skb->dev = dev;
	/* The qdisc owns the packet now: a drop frees it through the destructor. */
	dev_queue_xmit(skb);
	return 0;
}

/* Hooks changed: queued packets' hook indexes may be stale (see imq_gen). */
static void imq_nf_hook_drop(struct net *net)
{
	atomic_inc(&imq_gen);
}

static const struct nf_queue_handler imq_queue_handler = {
	.outfn = imq_outfn,
	.nf_hook_drop = imq_nf_hook_drop,
};

/* ---- the devices: out of the qdisc ---- */
static netdev_tx_t imq_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct imq_priv *priv = netdev_priv(dev);
	struct nf_queue_entry *entry;
	struct imq_pkt *pkt = imq_take(skb);
	bool stale;

	if (!pkt) {
		/* Not a packet imq queued: a segment a leaf made of a GSO packet
		 * (cake's split-gso), whose entry went with the original. */
		atomic64_inc(&priv->dropped);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	entry = pkt->entry;
	imq_restore(skb, pkt);
	stale = pkt->gen != atomic_read(&imq_gen);
	kfree(pkt);
	if (stale) {
		atomic64_inc(&priv->dropped);
		kfree_skb(skb);
		nf_queue_entry_free(entry);
		return NETDEV_TX_OK;
	}
	atomic64_inc(&priv->packets);
	atomic64_add(skb->len, &priv->bytes);
	rcu_read_lock();
	nf_reinject(entry, NF_ACCEPT);
	rcu_read_unlock();
	return NETDEV_TX_OK;
}

static void imq_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *s)
{
	struct imq_priv *priv = netdev_priv(dev);

	s->tx_packets = atomic64_read(&priv->packets);
	s->tx_bytes = atomic64_read(&priv->bytes);
	s->tx_dropped = atomic64_read(&priv->dropped);
}

static const struct net_device_ops imq_netdev_ops = {
	.ndo_start_xmit = imq_xmit,
	.ndo_get_stats64 = imq_get_stats64,
};

static void imq_setup(struct net_device *dev)
{
	dev->netdev_ops = &imq_netdev_ops;
	dev->type = ARPHRD_VOID;
	dev->mtu = 16000;
	dev->min_mtu = 0;
	dev->max_mtu = 65535;
	dev->tx_queue_len = 1000;
	dev->flags = IFF_NOARP;
	dev->features = IMQ_FEATURES | NETIF_F_LLTX;
	dev->hw_features = IMQ_FEATURES;
	dev->hw_enc_features = IMQ_FEATURES;
	dev->vlan_features = IMQ_FEATURES;
	/* Forwarded and local packets keep their route through the qdisc. */
	netif_keep_dst(dev);
	dev->needs_free_netdev = true;
}

static int imq_validate(struct nlattr *tb[], struct nlattr *data[], struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "imq devices come from the module: modprobe imq numdevs=N");
	return -EOPNOTSUPP;
}

/* A link kind, so that `ip -d link` shows "imq" and unloading removes the devices. */
static struct rtnl_link_ops imq_link_ops __read_mostly = {
	.kind = "imq",
	.priv_size = sizeof(struct imq_priv),
	.setup = imq_setup,
	.validate = imq_validate,
};

/* ---- one queue handler: nfnetlink_queue and imq exclude each other ---- */
static bool imq_module_loaded(const char *name)
{
	struct module *mod;
	bool found = false;

	/* Walk the module list from our own entry. Its head is no module: it is
	 * in the kernel's data, outside the module area every struct module of a
	 * loaded module lives in (find_module and __module_address are not
	 * exported to modules). */
	preempt_disable();
	list_for_each_entry_rcu(mod, &THIS_MODULE->list, list) {
		unsigned long a = (unsigned long)mod;

		if (a < MODULES_VADDR || a >= MODULES_END)
			continue;
		if (mod->state != MODULE_STATE_UNFORMED && !strcmp(mod->name, name)) {
			found = true;
			break;
		}
	}
	preempt_enable();
	return found;
}

static int imq_module_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;

	if (action != MODULE_STATE_COMING || strcmp(mod->name, "nfnetlink_queue"))
		return NOTIFY_DONE;
	pr_err("imq: nfnetlink_queue may not load while imq holds netfilter's queue handler (there is only one): rmmod imq first\n");
	return notifier_from_errno(-EBUSY);
}

static struct notifier_block imq_module_nb = {
	.notifier_call = imq_module_event,
};

static void imq_free_devs(void)
{
	unsigned int i;

	for (i = 0; i < IMQ_MAX_DEVS; i++)
		RCU_INIT_POINTER(imq_devs[i], NULL);
	synchronize_net();
	/* Unregisters every imq device: their qdiscs free what they hold, and the
	 * destructor frees each packet's queue entry. */
	rtnl_link_unregister(&imq_link_ops);
}

static int __init imq_init(void)
{
	unsigned int i;
	int err;

	if (numdevs < 2 || numdevs > IMQ_MAX_DEVS) {
		pr_err("imq: numdevs=%d: must be 2-%d\n", numdevs, IMQ_MAX_DEVS);
		return -EINVAL;
	}
	err = register_module_notifier(&imq_module_nb);
	if (err)
		return err;
	if (imq_module_loaded("nfnetlink_queue")) {
		pr_err("imq: nfnetlink_queue is loaded and holds netfilter's only queue handler: rmmod nfnetlink_queue (or shape with IFB)\n");
		err = -EBUSY;
		goto out_notifier;
	}

	err = rtnl_link_register(&imq_link_ops);
	if (err)
		goto out_notifier;
	for (i = 0; i < numdevs; i++) {
		struct net_device *dev = alloc_netdev(sizeof(struct imq_priv), "imq%d", NET_NAME_ENUM, imq_setup);

		if (!dev) {
			err = -ENOMEM;
			goto out_devs;
		}
		snprintf(dev->name, IFNAMSIZ, "imq%u", i);
		dev->rtnl_link_ops = &imq_link_ops;
		err = register_netdev(dev);
		if (err) {
			free_netdev(dev);
			goto out_devs;
		}
		rcu_assign_pointer(imq_devs[i], dev);
	}

	nf_register_queue_handler(&imq_queue_handler);
	err = nf_register_net_hooks(&init_net, imq_hook_ops, ARRAY_SIZE(imq_hook_ops));
	if (err)
		goto out_handler;
	pr_info("imq: %d devices, queueing after mangle in PREROUTING and POSTROUTING\n", numdevs);
	return 0;

out_handler:
	nf_unregister_queue_handler();
	synchronize_net();
out_devs:
	imq_free_devs();
out_notifier:
	unregister_module_notifier(&imq_module_nb);
	return err;
}

static void __exit imq_exit(void)
{
	/* No new packets (this calls imq_nf_hook_drop: queued ones are stale). */
	nf_unregister_net_hooks(&init_net, imq_hook_ops, ARRAY_SIZE(imq_hook_ops));
	nf_unregister_queue_handler();
	synchronize_net();
	atomic_inc(&imq_gen);
	imq_free_devs();
	WARN_ON(!xa_empty(&imq_pkts));
	xa_destroy(&imq_pkts);
	unregister_module_notifier(&imq_module_nb);
}

module_init(imq_init);
module_exit(imq_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("imq: intermediate queueing devices fed by the IMQ iptables target");
MODULE_ALIAS_RTNL_LINK("imq");
