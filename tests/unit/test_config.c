/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_config.c: the shared config file parser (common/config.c): a table of files, each with
 * the error it must produce (file:line: key) or none, plus the README documenting every key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "test_main.h"

struct config_case {
	const char *description;
	const char *text;
	const char *error_substring; /* NULL: must load */
};

static const struct config_case config_cases[] = {
	{"empty file gives defaults", "", NULL},
	{"port group", "dataplane = { port = { driver = \"tap\"; iface = \"sl0\"; }; };", NULL},
	{"unknown top key", "dataplane = {};\nfoo = 1;", "<t>:2: unknown key 'foo'"},
	{"unknown nested key", "dataplane = {\n port = {\n  speed = 10; }; };", "<t>:3: unknown key 'dataplane.port.speed'"},
	{"string where integer", "dataplane = { port = {\n mtu = \"big\"; }; };", "<t>:2: dataplane.port.mtu: expected an integer"},
	{"integer out of range", "dataplane = { port = { mtu = 100; }; };", "dataplane.port.mtu: 100 is outside [576, 9000]"},
	{"negative integer", "dataplane = { port = { mtu = -1; }; };", "dataplane.port.mtu: must not be negative"},
	{"bad ipv4", "dataplane = { net = { ipv4 = \"1.2.3\"; }; };", "dataplane.net.ipv4: '1.2.3' is not an IPv4 address"},
	{"bad ipv6", "dataplane = { net = { ipv6 = \"fd5c:::1\"; }; };", "is not an IPv6 address"},
	{"bool expected", "dataplane = { eal = { hugepages = 1; }; };", "dataplane.eal.hugepages: expected true or false"},
	{"syntax error names line", "dataplane = {\n port = { mtu = = 1500; };\n};", "<t>:2:"},
	{"bad driver", "dataplane = { port = { driver = \"e1000\"; }; };", "'e1000' is not af_xdp, tap, memif or pci"},
	{"memif driver", "dataplane = { port = { driver = \"memif\"; iface = \"/run/sluice/memif.sock\"; }; };", NULL},
	{"lcores must match queues", "dataplane = { port = { queues = 2; }; eal = { lcores = [1]; }; };",
	 "1 lcores for 2 queues"},
	{"two queues two lcores", "dataplane = { port = { queues = 2; }; eal = { lcores = [1, 2]; }; };", NULL},
	{"duplicate lcore", "dataplane = { port = { queues = 2; }; eal = { lcores = [1, 1]; }; };", "listed twice"},
	{"main lcore as worker", "dataplane = { eal = { lcores = [0]; }; };", "is also the main lcore"},
	{"lcore list type", "dataplane = { eal = { lcores = 1; }; };", "expected a list"},
	{"string too long", "dataplane = { port = { iface = \"0123456789012345678901234567890123456789012345678901234567890123456789\"; }; };",
	 "value longer than"},
	{"same ports", "dataplane = { service = { http_port = 443; }; };", "https_port equals http_port"},
	{"control section", "control = { listen = \"[::1]:8701\"; };", NULL},
	{"rto bounds", "dataplane = { tcp = { rto_min_ms = 5000; rto_max_ms = 1000; }; };", "rto_min_ms exceeds"},
	{"tls certificates", "dataplane = { tls = { certificate_chains = [\"a.pem\", \"b.pem\"];\n"
	 " certificate_keys = [\"a.key\", \"b.key\"]; aead_engine = \"openssl\"; }; };", NULL},
	{"tls: a key per chain", "dataplane = { tls = { certificate_chains = [\"a.pem\", \"b.pem\"];\n"
	 " certificate_keys = [\"a.key\"]; }; };", "1 keys for 2 certificate chains"},
	{"tls: a string is a list of one", "dataplane = { tls = { certificate_chains = \"a.pem\";\n"
	 " certificate_keys = \"a.key\"; }; };", NULL},
	{"tls: list of strings", "dataplane = { tls = {\n certificate_chains = 5; }; };",
	 "<t>:2: dataplane.tls.certificate_chains: expected a list"},
	{"tls: strings in the list", "dataplane = { tls = { certificate_chains = [1]; }; };", "entry 0 is not a string"},
	{"tls: at most 8 certificates", "dataplane = { tls = { certificate_chains = [\"1\", \"2\", \"3\", \"4\", \"5\","
	 " \"6\", \"7\", \"8\", \"9\"]; }; };", "at most 8 entries"},
	{"tls: unknown engine", "dataplane = { tls = { aead_engine = \"fast\"; }; };", "'fast' is not ipsec-mb or openssl"},
	{"tls: handshake budget", "dataplane = { tls = { handshakes_per_iteration = 0; }; };",
	 "handshakes_per_iteration: 0 is outside [1, 1024]"},
	{"http and store keys", "dataplane = { http = { cors_origins = \"https://a.example, https://b.example\";\n"
	 " sign_required = true; sign_prefixes = \"/video/ /live/\"; max_ranges = 16; cache_control = \"no-cache\"; };\n"
	 " store = { pagein_threads = 2; readahead_kb = 512; scan_interval_ms = 250; }; };", NULL},
	{"CORS any origin", "dataplane = { http = { cors_origins = \"*\"; }; };", NULL},
	{"CORS * among others", "dataplane = { http = { cors_origins = \"https://a.example *\"; }; };", "must be alone"},
	{"CORS too many origins", "dataplane = { http = { cors_origins = \"a b c d e f g h i j k l m n o p q\"; }; };",
	 "at most 16 origins"},
	{"header value with a control character", "dataplane = { http = { cache_control = \"max-age=1\\r\\nX: y\"; }; };",
	 "dataplane.http.cache_control: control or non-ASCII character"},
	{"sign prefix without slash", "dataplane = { http = { sign_prefixes = \"/a, b\"; }; };", "'b' does not start with '/'"},
	{"max_ranges bound", "dataplane = { http = { max_ranges = 17; }; };", "outside [0, 16]"},
	{"access log ring not a power of two", "dataplane = { api = { accesslog_records = 3000; }; };",
	 "not a power of two"},
	/* control: listen addresses, URLs, numbers, cross-key rules */
	{"listen ipv4", "control = { listen = \"127.0.0.1:8704\"; };", NULL},
	{"listen any ipv6", "control = { listen = \"[::]:8704\"; };", NULL},
	{"listen without port", "control = {\n listen = \"127.0.0.1\"; };", "<t>:2: control.listen: '127.0.0.1' is not ADDRESS:PORT"},
	{"listen port zero", "control = { listen = \"127.0.0.1:0\"; };", "is not ADDRESS:PORT"},
	{"listen port too big", "control = { listen = \"127.0.0.1:65536\"; };", "is not ADDRESS:PORT"},
	{"listen v6 without brackets", "control = { listen = \"::1:8701\"; };", "is not ADDRESS:PORT"},
	{"listen host name", "control = { listen = \"localhost:8701\"; };", "is not ADDRESS:PORT"},
	{"report url", "control = { report = { url = \"https://backend.example:8443/v1/edges\"; }; };", NULL},
	{"report url scheme", "control = { report = {\n\n url = \"ftp://x\"; }; };", "<t>:3: control.report.url: 'ftp://x' is not an http"},
	{"report url space", "control = { report = { url = \"http://a b\"; }; };", "space or control character"},
	{"etcd prefix slashes", "control = { etcd = { prefix = \"sluice\"; }; };", "must start and end with '/'"},
	{"capacity float", "control = { admission = { capacity_gbps = 0.05; }; };", NULL},
	{"capacity integer", "control = { admission = { capacity_gbps = 40; }; };", NULL},
	{"capacity string", "control = { admission = {\n capacity_gbps = \"fast\"; }; };", "<t>:2: control.admission.capacity_gbps: expected a number"},
	{"capacity negative", "control = { admission = { capacity_gbps = -1.0; }; };", "-1 is outside [0, 10000]"},
	{"busy limit above 1", "control = { admission = { busy_limit = 1.5; }; };", "busy_limit: 1.5 is outside [0, 1]"},
	{"hysteresis inverted", "control = { admission = { close_utilisation = 0.5; reopen_utilisation = 0.7; }; };",
	 "reopen_utilisation (0.7) must be below close_utilisation (0.5)"},
	{"tls pair", "control = { tls_cert = \"/c.pem\"; };", "tls_cert and control.tls_key go together"},
	{"unknown control key", "control = { fill = {\n speed = 1; }; };", "<t>:2: unknown key 'control.fill.speed'"},
	{"steer settings", "control = { steer = { pin_dir = \"/sys/fs/bpf/x\"; auto_services = false; }; };", NULL},
	{"backoff order", "control = { report = { backoff_initial_ms = 5000; backoff_max_ms = 100; }; };", "backoff_initial_ms exceeds"},
	{NULL, NULL, NULL},
};

static void test_config_table(void)
{
	for (const struct config_case *c = config_cases; c->description; c++) {
		struct sluice_config cfg;
		char err[CONFIG_ERROR_MAX] = "";
		int rc = config_load_string(c->text, "<t>", &cfg, err, sizeof(err));

		if (!c->error_substring)
			TEST_CHECK(rc == 0, "%s: expected success, got %d (%s)", c->description, rc, err);
		else
			TEST_CHECK(rc == -EINVAL && strstr(err, c->error_substring),
				   "%s: expected error containing '%s', got %d '%s'", c->description,
				   c->error_substring, rc, err);
	}
}

static void test_config_values(void)
{
	struct sluice_config cfg;
	char err[CONFIG_ERROR_MAX];
	int rc = config_load_string("dataplane = { port = { mtu = 9000; queues = 2; };\n"
				    " eal = { lcores = [3, 5]; hugepages = false; };\n"
				    " net = { ipv4 = \"10.0.0.1\"; }; tcp = { cc = \"cubic\"; }; };",
				    "<t>", &cfg, err, sizeof(err));

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.dataplane.port_mtu, 9000);
	CU_ASSERT_EQUAL(cfg.dataplane.lcore_count, 2);
	CU_ASSERT_EQUAL(cfg.dataplane.lcores[1], 5);
	CU_ASSERT_FALSE(cfg.dataplane.hugepages);
	CU_ASSERT_EQUAL(cfg.dataplane.ipv4.s_addr, htonl(0x0a000001));
	CU_ASSERT_STRING_EQUAL(cfg.dataplane.tcp_cc, "cubic");
	/* Defaults for what the file did not name. */
	CU_ASSERT_EQUAL(cfg.dataplane.http_port, 80);
	CU_ASSERT_EQUAL(cfg.dataplane.tls_certificate_chains_count, 0);
	CU_ASSERT_STRING_EQUAL(cfg.dataplane.tls_aead_engine, "ipsec-mb");
	rc = config_load_string("dataplane = { tls = { certificate_chains = [\"/c/a.pem\", \"/c/b.pem\"];"
				" certificate_keys = [\"/c/a.key\", \"/c/b.key\"]; max_handshakes = 8; }; };",
				"<t>", &cfg, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.dataplane.tls_certificate_chains_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.dataplane.tls_certificate_chains[1], "/c/b.pem");
	CU_ASSERT_STRING_EQUAL(cfg.dataplane.tls_certificate_keys[0], "/c/a.key");
	CU_ASSERT_EQUAL(cfg.dataplane.tls_max_handshakes, 8);
	CU_ASSERT_STRING_EQUAL(cfg.dataplane.port_driver, "af_xdp");
}

static void test_config_control_values(void)
{
	struct sluice_config cfg;
	char err[CONFIG_ERROR_MAX];
	int rc = config_load_string("control = { admission = { capacity_gbps = 0.25; close_utilisation = 1; };\n"
				    " fill = { concurrency = 8; }; edge_id = \"edge-7\"; public_metrics = false; };",
				    "<t>", &cfg, err, sizeof(err));

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg.control.capacity_gbps, 0.25, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(cfg.control.admission_close_utilisation, 1.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(cfg.control.admission_reopen_utilisation, 0.8, 1e-12);
	CU_ASSERT_EQUAL(cfg.control.fill_concurrency, 8);
	CU_ASSERT_STRING_EQUAL(cfg.control.edge_id, "edge-7");
	CU_ASSERT_FALSE(cfg.control.public_metrics);
	CU_ASSERT_TRUE(cfg.control.public_health);
	CU_ASSERT_STRING_EQUAL(cfg.control.etcd_prefix, "/sluice/edges/");
}

struct listen_case {
	const char *text;
	int family; /* 0: invalid */
	uint16_t port;
};

static void test_config_listen(void)
{
	static const struct listen_case cases[] = {
		{"127.0.0.1:8701", AF_INET, 8701}, {"0.0.0.0:1", AF_INET, 1}, {"[::1]:8701", AF_INET6, 8701},
		{"[::]:65535", AF_INET6, 65535}, {"[fd5c:4::1]:80", AF_INET6, 80}, {"", 0, 0}, {":80", 0, 0},
		{"127.0.0.1:", 0, 0}, {"127.0.0.1:+80", 0, 0}, {"127.0.0.1:80x", 0, 0}, {"[::1]8701", 0, 0},
		{"[::1:8701", 0, 0}, {"1.2.3.4.5:80", 0, 0}, {"[127.0.0.1]:80", 0, 0}, {"127.0.0.1:-1", 0, 0},
		{NULL, 0, 0},
	};

	for (const struct listen_case *c = cases; c->text; c++) {
		struct sockaddr_storage addr;
		unsigned len = 0;
		int rc = config_parse_listen(c->text, &addr, &len);

		if (!c->family) {
			TEST_CHECK(rc == -EINVAL, "'%s' should be refused, got %d", c->text, rc);
			continue;
		}
		TEST_CHECK(rc == 0 && addr.ss_family == c->family, "'%s': rc %d family %d", c->text, rc, addr.ss_family);
		if (rc == 0)
			TEST_CHECK(ntohs(c->family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
							      : ((struct sockaddr_in6 *)&addr)->sin6_port) == c->port,
				   "'%s': port", c->text);
	}
}

static void test_config_missing_file(void)
{
	struct sluice_config cfg;
	char err[CONFIG_ERROR_MAX];

	CU_ASSERT_EQUAL(config_load_file("/nonexistent/sluice.conf", &cfg, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/sluice.conf"));
}

/* README.md must document every key (run from the source root). */
static char *readme_text;

static void readme_check_key(const char *path, const char *type, const char *def, const char *help, void *arg)
{
	(void)type, (void)def, (void)help, (void)arg;
	TEST_CHECK(readme_text && strstr(readme_text, path), "README.md does not document %s", path);
}

static void test_config_documented(void)
{
	FILE *f = fopen("README.md", "r");
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	readme_text = calloc(1, (size_t)n + 1);
	CU_ASSERT_EQUAL(fread(readme_text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	config_for_each_key(readme_check_key, NULL);
	free(readme_text);
	readme_text = NULL;
}

/* config_diff names exactly the keys that differ (config reload uses it). */
static void diff_collect(const char *path, void *arg)
{
	char *out = arg;

	strcat(out, path);
	strcat(out, ";");
}

static void test_config_diff(void)
{
	struct sluice_config a, b;
	char err[CONFIG_ERROR_MAX], names[512] = "";

	CU_ASSERT_EQUAL_FATAL(config_load_string("", "<a>", &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(config_load_string("dataplane = { port = { mtu = 9000; }; http = { cors_origins = \"*\";\n"
						 " send_timeout_ms = 5000; }; eal = { lcores = [2]; }; };",
						 "<b>", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(config_diff(&a, &a, NULL, NULL), 0);
	CU_ASSERT_EQUAL(config_diff(&a, &b, diff_collect, names), 4);
	CU_ASSERT_STRING_EQUAL(names, "dataplane.port.mtu;dataplane.eal.lcores;dataplane.http.send_timeout_ms;"
				      "dataplane.http.cors_origins;");
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"file table", test_config_table},
		{"differences between two configs", test_config_diff},
		{"values and defaults", test_config_values},
		{"control values", test_config_control_values},
		{"listen addresses", test_config_listen},
		{"missing file", test_config_missing_file},
		{"every key documented in README.md", test_config_documented},
		{NULL, NULL},
	};
	test_add_suite("config", cases);
}
