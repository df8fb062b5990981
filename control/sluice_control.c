/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_control.c: `sluice-control`, the edge's control plane daemon (control.c does the work).
 *
 *   sluice-control --config FILE        run until SIGTERM/SIGINT; SIGHUP re-reads the control
 *                                       part of the config and the token file, reopens the
 *                                       access log
 *   sluice-control --check-config FILE  validate the config file and exit
 *   sluice-control --routes             print the REST routes (method, path, access)
 *
 * Exit status: 0 after a clean stop, 1 when it could not start (the log says why), 2 for usage
 * and config errors.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice-control --config FILE        run the control plane\n"
		     "       sluice-control --check-config FILE  validate the config file and exit\n"
		     "       sluice-control --routes             print the REST routes\n"
		     "\n"
		     "The operators' REST API, Prometheus metrics, admission controller, health reports,\n"
		     "etcd registration, fill from origin and access logs of a sluice edge; see README.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'k'},
		{"routes", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct control ctl;
	struct sluice_config cfg;
	const char *config_path = NULL;
	char err[CONFIG_ERROR_MAX];
	bool check_only = false;
	sigset_t set;
	int opt, rc;

	log_set_program("sluice-control");
	while ((opt = getopt_long(argc, argv, "c:k:rh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'k': config_path = optarg; check_only = true; break;
		case 'r':
			for (size_t i = 0; i < api_route_count; i++)
				printf("%s %s %s\n", api_routes[i].method, api_routes[i].path,
				       api_routes[i].access == REST_ACCESS_TOKEN     ? "token"
				       : api_routes[i].access == REST_ACCESS_METRICS ? "public-metrics"
										     : "public-health");
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	rc = config_load_file(config_path, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sluice-control: %s\n", err);
		return 2;
	}
	if (check_only) {
		printf("%s: ok\n", config_path);
		return 0;
	}
	if (strlen(config_path) >= sizeof(ctl.config_path)) {
		fprintf(stderr, "sluice-control: config path too long\n");
		return 2;
	}
	snprintf(ctl.config_path, sizeof(ctl.config_path), "%s", config_path);
	/* Signals go to the control loop only (sigtimedwait); every thread started from here on
	 * inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "sluice-control: libcurl initialisation failed\n");
		return 1;
	}
	rc = control_start(&ctl, &cfg);
	if (!rc)
		control_run(&ctl);
	control_stop(&ctl);
	curl_global_cleanup();
	log_info("stopped");
	return rc ? 1 : 0;
}
