/*
 * Unit tests for src/banman.c: discouragement by IP (ports ignored),
 * extending but never shortening, expiry at the exact second, and the
 * 100000-IP cap.
 */
#include <string.h>

#include "banman.h"
#include "unit.h"

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	if (netaddr_parse(s, 28444, &a) != 0)
		fprintf(stderr, "  test address \"%s\" does not parse\n", s);
	return a;
}

/* The i-th of many distinct IPv4 addresses: 10.x.y.z. */
static struct netaddr nth(unsigned i)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	a.ip[10] = a.ip[11] = 0xff;
	a.ip[12] = 10;
	a.ip[13] = (uint8_t)(i >> 16);
	a.ip[14] = (uint8_t)(i >> 8);
	a.ip[15] = (uint8_t)i;
	a.port = 8333;
	return a;
}

UNIT_TEST(banman_discourage_by_ip)
{
	struct banman *bm = banman_new();
	struct netaddr a = addr("1.2.3.4:8333"), a_other_port = addr("1.2.3.4:1");
	struct netaddr mapped = addr("[::ffff:1.2.3.4]:5"), b = addr("1.2.3.5:8333");
	struct netaddr v6 = addr("[2001:db8::1]:8333"), v6b = addr("[2001:db8::2]:8333");

	REQUIRE(bm != NULL);
	CHECK(!banman_is_discouraged(bm, &a, 1000));
	CHECK_EQ_INT(banman_discourage(bm, &a, 1000, 100), 0);
	CHECK(banman_is_discouraged(bm, &a, 1000));
	CHECK(banman_is_discouraged(bm, &a_other_port, 1000));
	CHECK(banman_is_discouraged(bm, &mapped, 1000));
	CHECK(!banman_is_discouraged(bm, &b, 1000));
	CHECK(!banman_is_discouraged(bm, &v6, 1000));
	CHECK_EQ_INT(banman_discourage(bm, &v6, 1000, 100), 0);
	CHECK(banman_is_discouraged(bm, &v6, 1050));
	CHECK(!banman_is_discouraged(bm, &v6b, 1050));
	CHECK(banman_is_discouraged(bm, &a, 1050));
	banman_free(bm);
	banman_free(NULL);
}

UNIT_TEST(banman_expiry_is_exclusive)
{
	struct banman *bm = banman_new();
	struct netaddr a = addr("1.2.3.4"), b = addr("5.6.7.8");

	CHECK_EQ_INT(banman_discourage(bm, &a, 1000, 100), 0); /* until 1100 */
	CHECK_EQ_INT(banman_discourage(bm, &b, 1000, 200), 0); /* until 1200 */
	CHECK(banman_is_discouraged(bm, &a, 1099));
	CHECK(!banman_is_discouraged(bm, &a, 1100));
	CHECK(banman_is_discouraged(bm, &b, 1100));
	CHECK(banman_is_discouraged(bm, &b, 1199));
	CHECK(!banman_is_discouraged(bm, &b, 1200));
	/* Expired entries are gone: a lookup at an earlier time no longer
	 * finds them (they were dropped, not just hidden). */
	CHECK(!banman_is_discouraged(bm, &a, 1000));
	CHECK(!banman_is_discouraged(bm, &b, 1000));
	/* And may be discouraged again. */
	CHECK_EQ_INT(banman_discourage(bm, &a, 2000, 10), 0);
	CHECK(banman_is_discouraged(bm, &a, 2009));
	CHECK(!banman_is_discouraged(bm, &a, 2010));
	/* Zero seconds discourages nothing that outlives "now". */
	CHECK_EQ_INT(banman_discourage(bm, &b, 3000, 0), 0);
	CHECK(!banman_is_discouraged(bm, &b, 3000));
	banman_free(bm);
}

UNIT_TEST(banman_extends_never_shortens)
{
	struct banman *bm = banman_new();
	struct netaddr a = addr("1.2.3.4:1"), a2 = addr("1.2.3.4:2"), b = addr("9.9.9.9");

	CHECK_EQ_INT(banman_discourage(bm, &a, 1000, 100), 0);  /* until 1100 */
	CHECK_EQ_INT(banman_discourage(bm, &b, 1000, 61), 0);   /* until 1061 */
	CHECK_EQ_INT(banman_discourage(bm, &a2, 1050, 10), 0);  /* 1060: kept 1100 */
	CHECK(banman_is_discouraged(bm, &a, 1060));
	CHECK(banman_is_discouraged(bm, &a, 1080)); /* after b expired */
	CHECK(!banman_is_discouraged(bm, &b, 1080));
	CHECK(banman_is_discouraged(bm, &a, 1099));
	CHECK_EQ_INT(banman_discourage(bm, &a2, 1050, 200), 0); /* until 1250 */
	CHECK(banman_is_discouraged(bm, &a, 1100));
	CHECK(banman_is_discouraged(bm, &a, 1249));
	CHECK(!banman_is_discouraged(bm, &a, 1250));
	banman_free(bm);
}

UNIT_TEST(banman_cap_of_100000_ips)
{
	struct banman *bm = banman_new();
	struct netaddr extra = nth(100000), first = nth(0), last = nth(99999), probe;
	int failures = 0;

	/* Expiry times spread over 1000 seconds. */
	for (unsigned i = 0; i < 100000; i++) {
		struct netaddr a = nth(i);

		failures += banman_discourage(bm, &a, 1000, 1000 + (int64_t)(i % 1000)) != 0;
	}
	CHECK_EQ_INT(failures, 0);
	/* Full: a new IP is refused and not discouraged. */
	CHECK_EQ_INT(banman_discourage(bm, &extra, 1000, 100), -1);
	CHECK(!banman_is_discouraged(bm, &extra, 1000));
	/* A known IP can still be extended. */
	CHECK_EQ_INT(banman_discourage(bm, &first, 1500, 5000), 0); /* until 6500 */
	CHECK(banman_is_discouraged(bm, &first, 1999));
	CHECK(banman_is_discouraged(bm, &last, 1999)); /* until 2000 + 999 */
	CHECK_EQ_INT(banman_discourage(bm, &extra, 1999, 100), -1);
	/* At 2000 the entries with i % 1000 == 0 (100 of them, less first,
	 * which was extended) expire: room for 99 new IPs, not 100. */
	for (unsigned i = 0; i < 99; i++) {
		struct netaddr a = nth(200000 + i);

		CHECK_EQ_INT(banman_discourage(bm, &a, 2000, 10), 0);
	}
	CHECK_EQ_INT(banman_discourage(bm, &extra, 2000, 100), -1);
	CHECK(banman_is_discouraged(bm, &first, 2000));
	probe = nth(1000);
	CHECK(!banman_is_discouraged(bm, &probe, 2000));
	probe = nth(1001);
	CHECK(banman_is_discouraged(bm, &probe, 2000));
	/* Once everything but `first` has expired there is room again. */
	CHECK_EQ_INT(banman_discourage(bm, &extra, 3000, 100), 0);
	CHECK(banman_is_discouraged(bm, &extra, 3000));
	CHECK(banman_is_discouraged(bm, &first, 3000));
	CHECK(!banman_is_discouraged(bm, &last, 3000));
	probe = nth(200000);
	CHECK(!banman_is_discouraged(bm, &probe, 3000));
	banman_free(bm);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(banman_free_accepts_null)
{
	banman_free(NULL);
}
