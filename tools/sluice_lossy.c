/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_lossy.c: sluice-lossy, the loader of the lab's loss program (bpf/lossy.bpf.c).
 *
 *   sluice-lossy attach IFACE --loss P [--burst-enter P --burst-exit Q --burst-loss R]
 *                [--seed N] [--ingress|--egress]
 *   sluice-lossy detach IFACE [--ingress|--egress]
 *   sluice-lossy stats IFACE [--ingress|--egress]      JSON: passed/dropped packets and bytes
 *
 * attach loads a new program with the given settings (load-time constants) and puts it on
 * the interface's clsact hook (created if missing) at a fixed handle and priority, replacing
 * a previous lossy program there: counters start at zero with every attach. Nothing is
 * pinned: the tc filter holds the program, the program holds its maps. That is also how
 * stats finds them: it asks tc for the program id at our handle, then walks the program's
 * map ids to the map named lossy_stats (and the .rodata map for the settings), which works
 * inside `ip netns exec`, where the root namespace's bpffs is not mounted. Default direction:
 * egress. Runs on the control path only; exit 0, 1 on failure, 2 on bad usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lossy.h"
#include "lossy.skel.h"

struct lossy_options {
	double loss, burst_enter, burst_exit, burst_loss;
	unsigned long long seed;
	bool ingress;
	bool have_loss, have_burst_enter, have_burst_exit, have_burst_loss;
};

/* libbpf's messages, except while we probe for something that may be absent (an existing
 * clsact hook, a filter at our handle): the kernel's "Exclusivity flag on" and "Cannot find
 * specified filter chain" are expected answers there, not errors. */
static bool lossy_quiet;

static int lossy_libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
	__attribute__((format(printf, 2, 0)));
static int lossy_libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (lossy_quiet || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}

static void lossy_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-lossy attach IFACE --loss P [--burst-enter P --burst-exit Q --burst-loss R]\n"
		"                   [--seed N] [--ingress|--egress]\n"
		"       sluice-lossy detach IFACE [--ingress|--egress]\n"
		"       sluice-lossy stats IFACE [--ingress|--egress]\n"
		"Probabilities are per packet, 0..1. Bursts (Gilbert-Elliott): the good state drops with\n"
		"--loss and turns bad with --burst-enter; the bad state drops with --burst-loss and turns\n"
		"good with --burst-exit. --seed makes the pattern repeatable (0: kernel randomness).\n");
}

static int lossy_parse_probability(const char *name, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= 0.0 && v <= 1.0)) {
		fprintf(stderr, "sluice-lossy: %s must be a probability between 0 and 1, not '%s'\n", name, text);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static __u64 lossy_threshold(double p)
{
	return p >= 1.0 ? LOSSY_PROBABILITY_ONE : (__u64)(p * (double)LOSSY_PROBABILITY_ONE);
}

static int lossy_parse(int argc, char **argv, struct lossy_options *o)
{
	static const struct option longopts[] = {
		{"loss", required_argument, NULL, 'l'},      {"burst-enter", required_argument, NULL, 'e'},
		{"burst-exit", required_argument, NULL, 'x'}, {"burst-loss", required_argument, NULL, 'b'},
		{"seed", required_argument, NULL, 's'},      {"ingress", no_argument, NULL, 'i'},
		{"egress", no_argument, NULL, 'o'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'l':
			rc = lossy_parse_probability("--loss", optarg, &o->loss);
			o->have_loss = true;
			break;
		case 'e':
			rc = lossy_parse_probability("--burst-enter", optarg, &o->burst_enter);
			o->have_burst_enter = true;
			break;
		case 'x':
			rc = lossy_parse_probability("--burst-exit", optarg, &o->burst_exit);
			o->have_burst_exit = true;
			break;
		case 'b':
			rc = lossy_parse_probability("--burst-loss", optarg, &o->burst_loss);
			o->have_burst_loss = true;
			break;
		case 's':
			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end) {
				fprintf(stderr, "sluice-lossy: --seed must be an integer, not '%s'\n", optarg);
				rc = -EINVAL;
			}
			break;
		case 'i':
			o->ingress = true;
			break;
		case 'o':
			o->ingress = false;
			break;
		case 'h':
			lossy_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int lossy_ifindex(const char *iface)
{
	unsigned int ifindex = if_nametoindex(iface);

	if (!ifindex) {
		fprintf(stderr, "sluice-lossy: no interface '%s' in this network namespace\n", iface);
		return -ENODEV;
	}
	return (int)ifindex;
}

static void lossy_hook(struct bpf_tc_hook *hook, int ifindex, bool ingress)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static int lossy_attach(const char *iface, const struct lossy_options *o)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct lossy_bpf *skel = NULL;
	int ifindex = lossy_ifindex(iface), rc;

	if (ifindex < 0)
		return ifindex;
	if (!o->have_loss && !o->have_burst_enter) {
		fprintf(stderr, "sluice-lossy: attach needs --loss (and/or --burst-enter)\n");
		return -EINVAL;
	}
	if (o->have_burst_enter != o->have_burst_exit || (o->have_burst_loss && !o->have_burst_enter)) {
		fprintf(stderr, "sluice-lossy: bursts need --burst-enter and --burst-exit (and --burst-loss)\n");
		return -EINVAL;
	}
	skel = lossy_bpf__open();
	if (!skel) {
		rc = -errno;
		fprintf(stderr, "sluice-lossy: cannot open the BPF object: %s\n", strerror(-rc));
		return rc;
	}
	skel->rodata->loss_threshold = lossy_threshold(o->loss);
	skel->rodata->burst_enter_threshold = lossy_threshold(o->burst_enter);
	skel->rodata->burst_exit_threshold = lossy_threshold(o->burst_exit);
	skel->rodata->burst_loss_threshold = lossy_threshold(o->have_burst_loss ? o->burst_loss : 1.0);
	skel->rodata->seed = o->seed;
	rc = lossy_bpf__load(skel);
	if (rc) {
		fprintf(stderr, "sluice-lossy: cannot load the program: %s\n", strerror(-rc));
		goto cleanup;
	}
	lossy_hook(&hook, ifindex, o->ingress);
	lossy_quiet = true;
	rc = bpf_tc_hook_create(&hook);
	lossy_quiet = false;
	if (rc && rc != -EEXIST) {
		fprintf(stderr, "sluice-lossy: cannot create the clsact hook on %s: %s\n", iface, strerror(-rc));
		goto cleanup;
	}
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = LOSSY_TC_HANDLE;
	opts.priority = LOSSY_TC_PRIORITY;
	opts.prog_fd = bpf_program__fd(skel->progs.lossy);
	opts.flags = BPF_TC_F_REPLACE;
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		fprintf(stderr, "sluice-lossy: cannot attach to %s: %s\n", iface, strerror(-rc));
		goto cleanup;
	}
	printf("sluice-lossy: %s %s: loss %g", iface, o->ingress ? "ingress" : "egress", o->loss);
	if (o->have_burst_enter)
		printf(", bursts enter %g exit %g loss %g", o->burst_enter, o->burst_exit,
		       o->have_burst_loss ? o->burst_loss : 1.0);
	printf(", seed %llu (program id %u)\n", o->seed, opts.prog_id);
cleanup:
	lossy_bpf__destroy(skel); /* the tc filter keeps the program and its maps */
	return rc;
}

static int lossy_detach(const char *iface, const struct lossy_options *o)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int ifindex = lossy_ifindex(iface), rc;

	if (ifindex < 0)
		return ifindex;
	lossy_hook(&hook, ifindex, o->ingress);
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = LOSSY_TC_HANDLE;
	opts.priority = LOSSY_TC_PRIORITY;
	lossy_quiet = true;
	rc = bpf_tc_detach(&hook, &opts);
	lossy_quiet = false;
	if (rc == -ENOENT || rc == -EINVAL) {
		printf("sluice-lossy: nothing attached on %s %s\n", iface, o->ingress ? "ingress" : "egress");
		return 0;
	}
	if (rc)
		fprintf(stderr, "sluice-lossy: cannot detach from %s: %s\n", iface, strerror(-rc));
	else
		printf("sluice-lossy: detached from %s %s\n", iface, o->ingress ? "ingress" : "egress");
	return rc;
}

static double lossy_probability(__u64 threshold) { return (double)threshold / (double)LOSSY_PROBABILITY_ONE; }

static int lossy_stats(const char *iface, const struct lossy_options *o)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	struct bpf_prog_info prog_info;
	__u32 map_ids[16], info_len = sizeof(prog_info);
	struct lossy_stats total;
	struct lossy_bpf__rodata settings;
	bool have_stats = false, have_settings = false;
	int ifindex = lossy_ifindex(iface), prog_fd = -1, ncpus, rc;

	if (ifindex < 0)
		return ifindex;
	lossy_hook(&hook, ifindex, o->ingress);
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = LOSSY_TC_HANDLE;
	opts.priority = LOSSY_TC_PRIORITY;
	lossy_quiet = true;
	rc = bpf_tc_query(&hook, &opts);
	lossy_quiet = false;
	if (rc) {
		fprintf(stderr, "sluice-lossy: no lossy program on %s %s\n", iface, o->ingress ? "ingress" : "egress");
		return -ENOENT;
	}
	prog_fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (prog_fd < 0) {
		rc = -errno;
		fprintf(stderr, "sluice-lossy: program %u: %s\n", opts.prog_id, strerror(-rc));
		return rc;
	}
	memset(&prog_info, 0, sizeof(prog_info));
	prog_info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	prog_info.map_ids = (__u64)(unsigned long)map_ids;
	rc = bpf_obj_get_info_by_fd(prog_fd, &prog_info, &info_len);
	if (rc) {
		fprintf(stderr, "sluice-lossy: program %u info: %s\n", opts.prog_id, strerror(-rc));
		goto cleanup;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		rc = ncpus ? ncpus : -EINVAL;
		goto cleanup;
	}
	memset(&total, 0, sizeof(total));
	for (__u32 i = 0; i < prog_info.nr_map_ids && i < sizeof(map_ids) / sizeof(map_ids[0]); i++) {
		struct bpf_map_info map_info;
		__u32 map_len = sizeof(map_info);
		int map_fd = bpf_map_get_fd_by_id(map_ids[i]);
		__u32 key = 0;

		if (map_fd < 0)
			continue;
		memset(&map_info, 0, sizeof(map_info));
		if (bpf_obj_get_info_by_fd(map_fd, &map_info, &map_len) == 0) {
			if (!strcmp(map_info.name, "lossy_stats") && map_info.value_size == sizeof(struct lossy_stats)) {
				struct lossy_stats *per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));

				if (per_cpu && bpf_map_lookup_elem(map_fd, &key, per_cpu) == 0) {
					for (int c = 0; c < ncpus; c++) {
						total.passed_packets += per_cpu[c].passed_packets;
						total.passed_bytes += per_cpu[c].passed_bytes;
						total.dropped_packets += per_cpu[c].dropped_packets;
						total.dropped_bytes += per_cpu[c].dropped_bytes;
						total.bad_state_packets += per_cpu[c].bad_state_packets;
						total.bad_state_entries += per_cpu[c].bad_state_entries;
					}
					have_stats = true;
				}
				free(per_cpu);
			} else if (strstr(map_info.name, ".rodata") && map_info.value_size == sizeof(settings)) {
				have_settings = bpf_map_lookup_elem(map_fd, &key, &settings) == 0;
			}
		}
		close(map_fd);
	}
	if (!have_stats) {
		fprintf(stderr, "sluice-lossy: program %u has no lossy_stats map\n", opts.prog_id);
		rc = -ENOENT;
		goto cleanup;
	}
	printf("{\"iface\": \"%s\", \"direction\": \"%s\", \"prog_id\": %u, \"passed_packets\": %llu, "
	       "\"passed_bytes\": %llu, \"dropped_packets\": %llu, \"dropped_bytes\": %llu, "
	       "\"bad_state_packets\": %llu, \"bad_state_entries\": %llu",
	       iface, o->ingress ? "ingress" : "egress", opts.prog_id, (unsigned long long)total.passed_packets,
	       (unsigned long long)total.passed_bytes, (unsigned long long)total.dropped_packets,
	       (unsigned long long)total.dropped_bytes, (unsigned long long)total.bad_state_packets,
	       (unsigned long long)total.bad_state_entries);
	if (have_settings)
		printf(", \"loss\": %g, \"burst_enter\": %g, \"burst_exit\": %g, \"burst_loss\": %g, \"seed\": %llu",
		       lossy_probability(settings.loss_threshold), lossy_probability(settings.burst_enter_threshold),
		       lossy_probability(settings.burst_exit_threshold),
		       lossy_probability(settings.burst_loss_threshold), (unsigned long long)settings.seed);
	printf("}\n");
	rc = 0;
cleanup:
	close(prog_fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct lossy_options o;
	const char *cmd, *iface;
	int rc;

	if (argc < 3) {
		lossy_usage(stderr);
		return 2;
	}
	cmd = argv[1];
	iface = argv[2];
	if (lossy_parse(argc - 2, argv + 2, &o) || optind != argc - 2) {
		lossy_usage(stderr);
		return 2;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_set_print(lossy_libbpf_print);
	if (!strcmp(cmd, "attach"))
		rc = lossy_attach(iface, &o);
	else if (!strcmp(cmd, "detach"))
		rc = lossy_detach(iface, &o);
	else if (!strcmp(cmd, "stats"))
		rc = lossy_stats(iface, &o);
	else {
		lossy_usage(stderr);
		return 2;
	}
	if (rc == -EINVAL)
		return 2;
	return rc ? 1 : 0;
}
