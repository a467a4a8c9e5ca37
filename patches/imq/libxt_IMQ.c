// SPDX-License-Identifier: GPL-2.0
/*
 * libxt_IMQ: the IMQ target for iptables 1.8 (libxtables 12), IPv4 and IPv6,
 * legacy and nft (through nft_compat) backends alike.
 *   iptables -t mangle -A PREROUTING -i ppp0 -j IMQ --todev 0
 * Save prints "--todev N" (always, so a saved rule reads back the same);
 * list prints "IMQ: todev N", as the public IMQ extension did.
 */
#include <stdio.h>
#include <xtables.h>
#include "imq.h"

enum { O_TODEV = 0 };

static const struct xt_option_entry imq_opts[] = {
	{ .name = "todev", .id = O_TODEV, .type = XTTYPE_UINT32, .min = 0, .max = IMQ_MAX_DEVS - 1,
	  .flags = XTOPT_PUT, XTOPT_POINTER(struct xt_imq_info, todev) },
	XTOPT_TABLEEND,
};

static void imq_help(void)
{
	printf("IMQ target options:\n"
	       "  --todev N		queue the packet to imqN (0-%d, default 0)\n", IMQ_MAX_DEVS - 1);
}

static void imq_print(const void *ip, const struct xt_entry_target *target, int numeric)
{
	const struct xt_imq_info *info = (const void *)target->data;

	printf(" IMQ: todev %u", info->todev);
}

static void imq_save(const void *ip, const struct xt_entry_target *target)
{
	const struct xt_imq_info *info = (const void *)target->data;

	printf(" --todev %u", info->todev);
}

static struct xtables_target imq_target = {
	.name = "IMQ",
	.version = XTABLES_VERSION,
	.family = NFPROTO_UNSPEC,
	.size = XT_ALIGN(sizeof(struct xt_imq_info)),
	.userspacesize = XT_ALIGN(sizeof(struct xt_imq_info)),
	.help = imq_help,
	.print = imq_print,
	.save = imq_save,
	.x6_parse = xtables_option_parse,
	.x6_options = imq_opts,
};

/* Registered when iptables dlopen()s the library. */
static void __attribute__((constructor)) imq_register(void)
{
	xtables_register_target(&imq_target);
}
