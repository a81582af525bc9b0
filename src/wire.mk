# The wire layer (hash, serialization, message framing, addresses): no daemon needed,
# so its unit tests run on their own. The node's fragment links WIRE_SRCS.
WIRE_SRCS   := src/hash.c src/ser.c src/msg.c src/netaddr.c
WIRE_LDLIBS := -lcrypto
UNIT_TEST_SRCS += $(WIRE_SRCS)
UNIT_TEST_LDLIBS += $(WIRE_LDLIBS)
