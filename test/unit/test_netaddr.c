/*
 * Unit tests for src/netaddr.c.
 */
#include <netinet/in.h>
#include <string.h>

#include "netaddr.h"
#include "unit.h"

/* Parse then format; "" if parsing failed. */
static void round_trip(const char *in, char *out)
{
	struct netaddr a;

	out[0] = '\0';
	if (netaddr_parse(in, 28444, &a) == 0)
		netaddr_format(&a, out, NETADDR_STRLEN);
}

UNIT_TEST(netaddr_parse_and_format)
{
	char out[NETADDR_STRLEN];

	round_trip("127.0.0.1:18444", out);
	CHECK_EQ_STR(out, "127.0.0.1:18444");
	round_trip("127.0.0.1", out);
	CHECK_EQ_STR(out, "127.0.0.1:28444");
	round_trip("[::1]:8333", out);
	CHECK_EQ_STR(out, "[::1]:8333");
	round_trip("[2001:db8::ff00:42:8329]", out);
	CHECK_EQ_STR(out, "[2001:db8::ff00:42:8329]:28444");
}

UNIT_TEST(netaddr_parse_rejects_bad_input)
{
	static const char *const bad[] = {
		"", ":1", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:80x",
		"1.2.3:80", "::1:80", "[::1", "[::1]x", "[::1]:", "[]:80",
		"example.com:80", "1.2.3.4:-1", "256.1.1.1",
	};
	struct netaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = netaddr_parse(bad[i], 28444, &a);

		if (rc != -1)
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
		CHECK_EQ_INT(rc, -1);
	}
}

static enum net_network network_of(const char *s)
{
	struct netaddr a;

	if (netaddr_parse(s, 1, &a) != 0)
		return (enum net_network)-1;
	return netaddr_network(&a);
}

UNIT_TEST(netaddr_network_numbers)
{
	CHECK_EQ_INT(network_of("127.0.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("10.1.2.3"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("172.31.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("192.168.1.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("100.64.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("8.8.8.8"), NET_IPV4);
	CHECK_EQ_INT(network_of("172.32.0.1"), NET_IPV4);
	CHECK_EQ_INT(network_of("[::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fe80::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fd00::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[2a01:4f8::1]"), NET_IPV6);
	CHECK_EQ_STR(net_network_name(NET_UNROUTABLE), "not_publicly_routable");
	CHECK_EQ_STR(net_network_name(NET_IPV6), "ipv6");
}

UNIT_TEST(netaddr_groups)
{
	struct netaddr a, b, c, d;

	netaddr_parse("127.1.0.1", 1, &a);
	netaddr_parse("127.1.200.9", 2, &b);
	netaddr_parse("127.2.0.1", 1, &c);
	netaddr_parse("[2a01:4f8:1::1]", 1, &d);
	CHECK(netaddr_group(&a) == netaddr_group(&b)); /* same /16 */
	CHECK(netaddr_group(&a) != netaddr_group(&c));
	CHECK(netaddr_group(&a) != netaddr_group(&d));
}

UNIT_TEST(netaddr_sockaddr_round_trip)
{
	struct sockaddr_storage ss;
	struct netaddr a, b;

	netaddr_parse("[2a01:4f8::1]:9", 1, &a);
	netaddr_to_sockaddr(&a, &ss);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	netaddr_parse("1.2.3.4:80", 1, &a);
	netaddr_to_sockaddr(&a, &ss);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}
