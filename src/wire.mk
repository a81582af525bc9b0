# The wire layer (hash, serialization, message framing, addresses). It knows
# nothing of the daemon, so its unit tests run on their own. src/node.mk links
# WIRE_SRCS and WIRE_LDLIBS into moneyrocketd.
#
# Its unit tests (test/unit/test_hash.c, test_ser.c, test_msg.c,
# test_netaddr.c) reach UNIT_TEST_SRCS through test/unit/build.mk's
# test_*.c wildcard; listing them here too would link them twice.
WIRE_SRCS   := src/hash.c src/ser.c src/msg.c src/netaddr.c
WIRE_LDLIBS := -lcrypto
UNIT_TEST_SRCS += $(WIRE_SRCS)
UNIT_TEST_LDLIBS += $(WIRE_LDLIBS)
