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

/* True for an IPv4 address (stored IPv4-mapped). */
bool netaddr_is_ipv4(const struct netaddr *a);
/* The contract's network number: NET_UNROUTABLE for loopback, RFC1918,
 * CGNAT, link-local, unique-local, documentation and reserved ranges;
 * otherwise NET_IPV4 or NET_IPV6. */
enum net_network netaddr_network(const struct netaddr *a);
/* The name getpeerinfo shows for a network number ("ipv4", ...);
 * "unknown" for a number outside the enum. Static storage. */
const char *netaddr_network_name(enum net_network n);

/*
 * The group eviction protects by: IPv4 /16, IPv6 /32, one group per
 * network otherwise. Equal groups compare equal as integers.
 */
uint64_t netaddr_group(const struct netaddr *a);

/* To a socket address (AF_INET for IPv4-mapped, else AF_INET6); returns
 * the length to pass to bind/connect. From one: 0, or -1 for a family other
 * than AF_INET/AF_INET6. IPv4-mapped AF_INET6 addresses stay as they are. */
socklen_t netaddr_to_sockaddr(const struct netaddr *a, struct sockaddr_storage *ss);
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

/* The address without the port ("a.b.c.d" or "v6", no brackets) into out
 * (NETADDR_STRLEN bytes is enough): what discouragement is keyed by. */
void netaddr_format_ip(const struct netaddr *a, char *out, size_t cap);

/* True if a and b have the same IP (ports ignored). */
bool netaddr_same_ip(const struct netaddr *a, const struct netaddr *b);

/*
 * A -whitelist value, Bitcoin Core's syntax: "[PERMS@]IP[/BITS]", where
 * PERMS is a comma-separated list of bloomfilter, noban, forcerelay, relay,
 * mempool, download, addr, all (none given: noban, mempool, download) and
 * BITS a prefix length (IPv4 0..32, IPv6 0..128; none: the single address).
 * Sets *net (port 0), *bits (IPv6 bits: an IPv4 /n is 96+n) and *noban.
 * Returns 0, or -1 if the value is not of that form.
 */
int netaddr_parse_whitelist(const char *s, struct netaddr *net, int *bits, bool *noban);

/* True if a's IP is in net/bits (bits counted over the 16-byte form). */
bool netaddr_in_subnet(const struct netaddr *a, const struct netaddr *net, int bits);

#endif
