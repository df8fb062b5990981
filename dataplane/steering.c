/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steering.c: preparing the interface for the steering program and registering the data
 * plane's services in its maps (see steering.h), through the control library control/steer.
 */
#include "steering.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "steer.h"

static bool steering_enabled(const struct dataplane_config *cfg)
{
	return !strcmp(cfg->port_driver, "af_xdp") && cfg->port_xdp_prog[0];
}

int steering_prepare(const struct dataplane_config *cfg)
{
	unsigned int ifindex;
	int rc;

	if (!steering_enabled(cfg))
		return 0;
	ifindex = if_nametoindex(cfg->port_iface);
	if (!ifindex)
		return -errno;
	rc = steer_detach((int)ifindex, 0);
	if (rc && rc != -ENOENT)
		log_warn("steering: could not detach the old XDP program from %s: %s", cfg->port_iface, strerror(-rc));
	return 0;
}

int steering_register(const struct dataplane_config *cfg, char *err, size_t err_len)
{
	struct steer_maps *maps;
	uint32_t ports[2] = {cfg->http_port, cfg->https_port};
	int added = 0, rc;

	if (!steering_enabled(cfg))
		return 0;
	rc = steer_open(STEER_PIN_ROOT_DEFAULT, &maps, err, err_len);
	if (rc)
		return rc;
	for (int family = 0; family < 2; family++) {
		if (family == 1 && !cfg->ipv6_enabled)
			continue;
		for (int p = 0; p < 2; p++) {
			struct steer_service svc;

			if (!ports[p])
				continue;
			memset(&svc, 0, sizeof(svc));
			svc.family = family ? STEER_FAMILY_IPV6 : STEER_FAMILY_IPV4;
			if (family)
				memcpy(svc.addr, &cfg->ipv6, 16);
			else
				memcpy(svc.addr, &cfg->ipv4, 4);
			svc.port = (uint16_t)ports[p];
			svc.service_id = cfg->port_service_id;
			rc = steer_service_add(maps, &svc);
			if (rc) {
				snprintf(err, err_len, "adding service port %u: %s", ports[p], strerror(-rc));
				steer_close(maps);
				return rc;
			}
			added++;
		}
	}
	steer_close(maps);
	return added;
}
