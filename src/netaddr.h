/*
 * netaddr.h — peer addresses: parsing "ip:port" / "[ipv6]:port", formatting
 * them back, the contract's network number, and the network group that
 * eviction protects by.
 */
#ifndef MR_NETADDR_H
#define MR_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Network numbers of net:* tracepoints (doc/tracing.md). */
enum net_network {
	NET_UNROUTABLE = 0, /* loopback, private and other local ranges */
	NET_IPV4 = 1,
	NET_IPV6 = 2,
	NET_ONION = 3,
	NET_I2P = 4,
	NET_CJDNS = 5,
	NET_INTERNAL = 6,
};

/* An IP address (IPv4 stored as ::ffff:a.b.c.d) and a port. */
struct netaddr {
	uint8_t ip[16];
	uint16_t port;
};

/* Longest formatted address: "[" 39 "]:" 5 + NUL, within the contract's 68. */
#define NETADDR_STRLEN 64

/*
 * Parse "a.b.c.d", "a.b.c.d:port", "[v6]" or "[v6]:port" (numeric only; no
 * name lookups). A missing port is `default_port`. Returns 0, or -1 for
 * anything else (port 0 or over 65535 included).
 */
int netaddr_parse(const char *s, uint16_t default_port, struct netaddr *out);

/* "a.b.c.d:port" or "[v6]:port" into out (NETADDR_STRLEN bytes). */
void netaddr_format(const struct netaddr *a, char *out, size_t cap);

bool netaddr_is_ipv4(const struct netaddr *a);
enum net_network netaddr_network(const struct netaddr *a);
/* The name getpeerinfo shows for a network number ("ipv4", ...). */
const char *net_network_name(enum net_network n);

/*
 * The group eviction protects by: IPv4 /16, IPv6 /32, one group per
 * network otherwise. Equal groups compare equal as integers.
 */
uint64_t netaddr_group(const struct netaddr *a);

/* To and from a socket address; from returns -1 for other families. */
socklen_t netaddr_to_sockaddr(const struct netaddr *a, struct sockaddr_storage *ss);
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

#endif
