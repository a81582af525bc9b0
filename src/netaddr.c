/*
 * netaddr.c — address parsing, formatting and classification.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool netaddr_is_ipv4(const struct netaddr *a)
{
	return memcmp(a->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

/* "port" as a decimal 1..65535; -1 otherwise. */
static int parse_port(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

int netaddr_parse(const char *s, uint16_t default_port, struct netaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end;
	size_t n;
	int p;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return -1;
		n = (size_t)(end - s - 1);
		port = end[1] == ':' ? end + 2 : NULL;
		s++;
	} else {
		end = strchr(s, ':');
		if (end && strchr(end + 1, ':'))
			return -1; /* bare IPv6 needs brackets to carry a port */
		n = end ? (size_t)(end - s) : strlen(s);
		port = end ? end + 1 : NULL;
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, out->ip) != 1) {
		memcpy(out->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		if (inet_pton(AF_INET, host, out->ip + 12) != 1)
			return -1;
	}
	p = port ? parse_port(port) : default_port;
	if (p <= 0)
		return -1;
	out->port = (uint16_t)p;
	return 0;
}

void netaddr_format(const struct netaddr *a, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (netaddr_is_ipv4(a)) {
		inet_ntop(AF_INET, a->ip + 12, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, a->port);
	} else {
		inet_ntop(AF_INET6, a->ip, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, a->port);
	}
}

/* IPv4 ranges that are not publicly routable: 0/8, 10/8, 100.64/10,
 * 127/8, 169.254/16, 172.16/12, 192.168/16, 198.18/15, 240/4 and up. */
static bool ipv4_unroutable(const uint8_t *v4)
{
	return v4[0] == 0 || v4[0] == 10 || v4[0] == 127 ||
	       (v4[0] == 100 && (v4[1] & 0xc0) == 64) ||
	       (v4[0] == 169 && v4[1] == 254) ||
	       (v4[0] == 172 && (v4[1] & 0xf0) == 16) ||
	       (v4[0] == 192 && v4[1] == 168) ||
	       (v4[0] == 198 && (v4[1] & 0xfe) == 18) || v4[0] >= 240;
}

/* IPv6: unspecified, loopback, link-local fe80::/10, unique local fc00::/7,
 * documentation 2001:db8::/32. fc00::/8 would be CJDNS on an overlay; on a
 * plain socket it is a local address. */
static bool ipv6_unroutable(const uint8_t *ip)
{
	static const uint8_t zero15[15];

	if (memcmp(ip, zero15, 15) == 0 && (ip[15] == 0 || ip[15] == 1))
		return true;
	return (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) || (ip[0] & 0xfe) == 0xfc ||
	       (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8);
}

enum net_network netaddr_network(const struct netaddr *a)
{
	if (netaddr_is_ipv4(a))
		return ipv4_unroutable(a->ip + 12) ? NET_UNROUTABLE : NET_IPV4;
	return ipv6_unroutable(a->ip) ? NET_UNROUTABLE : NET_IPV6;
}

const char *netaddr_network_name(enum net_network n)
{
	static const char *const names[] = {
		"not_publicly_routable", "ipv4", "ipv6", "onion", "i2p", "cjdns", "internal",
	};

	return (unsigned)n < sizeof(names) / sizeof(*names) ? names[n] : "unknown";
}

uint64_t netaddr_group(const struct netaddr *a)
{
	/* The network in the top byte keeps groups of different networks apart. */
	if (netaddr_is_ipv4(a))
		return (uint64_t)NET_IPV4 << 56 | (uint64_t)a->ip[12] << 8 | a->ip[13];
	return (uint64_t)NET_IPV6 << 56 | (uint64_t)a->ip[0] << 24 |
	       (uint64_t)a->ip[1] << 16 | (uint64_t)a->ip[2] << 8 | a->ip[3];
}

socklen_t netaddr_to_sockaddr(const struct netaddr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (netaddr_is_ipv4(a)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip + 12, 4);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		return sizeof(*in6);
	}
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memcpy(out->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(out->ip + 12, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(out->ip, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
		return 0;
	}
	return -1;
}

void netaddr_format_ip(const struct netaddr *a, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (netaddr_is_ipv4(a))
		inet_ntop(AF_INET, a->ip + 12, host, sizeof(host));
	else
		inet_ntop(AF_INET6, a->ip, host, sizeof(host));
	snprintf(out, cap, "%s", host);
}

bool netaddr_same_ip(const struct netaddr *a, const struct netaddr *b)
{
	return memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

/* Core's permission names; "all" and the default include noban. */
static int parse_perms(const char *s, size_t n, bool *noban)
{
	static const char *const names[] = { "bloomfilter", "noban", "forcerelay", "relay",
					     "mempool", "download", "addr", "all" };
	const char *end = s + n;

	*noban = false;
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
				break;
		}
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		*noban |= strcmp(names[i], "noban") == 0 || strcmp(names[i], "all") == 0;
		s += len + (comma != NULL);
	}
	return 0;
}

int netaddr_parse_whitelist(const char *s, struct netaddr *net, int *bits, bool *noban)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *at = strchr(s, '@'), *slash;
	size_t n;
	int max;

	*noban = true; /* the implicit permissions */
	if (at && parse_perms(s, (size_t)(at - s), noban) < 0)
		return -1;
	s = at ? at + 1 : s;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET6, ip, net->ip) == 1) {
		max = 128;
	} else {
		memcpy(net->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		if (inet_pton(AF_INET, ip, net->ip + 12) != 1)
			return -1;
		max = 32;
	}
	*bits = max;
	if (slash) {
		char *end;
		long b = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || b < 0 || b > max)
			return -1;
		*bits = (int)b;
	}
	*bits += 128 - max;
	return 0;
}

bool netaddr_in_subnet(const struct netaddr *a, const struct netaddr *net, int bits)
{
	for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((a->ip[i] & mask) != (net->ip[i] & mask))
			return false;
	}
	return true;
}
