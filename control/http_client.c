/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_client.c: blocking requests over libcurl's easy interface (see http_client.h).
 */
#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_client_sink {
	struct http_client_response *resp;
	size_t limit;
	bool too_big;
};

static size_t http_client_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_client_sink *sink = arg;
	size_t n = size * nmemb;
	char *grown;

	if (sink->resp->body_len + n > sink->limit) {
		sink->too_big = true;
		return 0;
	}
	grown = realloc(sink->resp->body, sink->resp->body_len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + sink->resp->body_len, data, n);
	sink->resp->body = grown;
	sink->resp->body_len += n;
	grown[sink->resp->body_len] = 0;
	return n;
}

void http_client_response_free(struct http_client_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int http_client_request(const struct http_client_request *req, struct http_client_response *resp)
{
	struct http_client_sink sink = {.resp = resp, .limit = req->max_response ? req->max_response : 1 << 20};
	struct curl_slist *headers = NULL;
	char auth[600], ctype[160], *ct = NULL;
	CURL *easy;
	CURLcode rc;
	int ret = 0;

	memset(resp, 0, sizeof(*resp));
	easy = curl_easy_init();
	if (!easy) {
		snprintf(resp->error, sizeof(resp->error), "out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_client_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, resp->error);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "sluice-control/" SLUICE_VERSION);
	if (req->ca_file && req->ca_file[0])
		curl_easy_setopt(easy, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", req->content_type ? req->content_type : "application/json");
		headers = curl_slist_append(headers, ctype);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	}
	headers = curl_slist_append(headers, "Expect:");
	if (req->bearer_token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer_token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(easy);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
		if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
		resp->error[0] = 0;
	} else {
		if (!resp->error[0])
			snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_OPERATION_TIMEDOUT: ret = -ETIMEDOUT; break;
		case CURLE_COULDNT_CONNECT: ret = -ECONNREFUSED; break;
		case CURLE_COULDNT_RESOLVE_HOST: ret = -EHOSTUNREACH; break;
		case CURLE_WRITE_ERROR: ret = sink.too_big ? -EFBIG : -EIO; break;
		default: ret = -EPROTO; break;
		}
		if (sink.too_big)
			snprintf(resp->error, sizeof(resp->error), "response larger than %zu bytes", sink.limit);
		http_client_response_free(resp);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(easy);
	return ret;
}
