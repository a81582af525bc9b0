# Transactions, blocks, scripts and keys: primitives.c (serialization,
# merkle roots, targets), script.c (P2PKH, sighash, secp256k1 verification)
# and keys.c (signing, Base58Check). Like the wire layer they know nothing
# of the daemon; moneyrocketd and the unit tests link them.
CRYPTO_SRCS   := src/primitives.c src/script.c src/keys.c
CRYPTO_LDLIBS := -lsecp256k1 -lcrypto
UNIT_TEST_SRCS += $(CRYPTO_SRCS)
UNIT_TEST_LDLIBS += $(CRYPTO_LDLIBS)
