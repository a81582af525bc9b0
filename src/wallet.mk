# The wallet: its SQLite file (walletdb.c), keys, transactions and
# balances (wallet.c) and sending (wallet_spend.c, over coinselection.c).
# moneyrocketd links them through src/node.mk's NODE_DAEMON_SRCS, with
# rpc_wallet.c; the unit tests (test/unit/test_wallet*.c) run them over a
# real chainstate and mempool in a temporary directory.
UNIT_TEST_SRCS += src/walletdb.c src/wallet.c src/wallet_select.c src/wallet_spend.c
UNIT_TEST_LDLIBS += -lsqlite3
UNIT_TEST_SRCS += src/coinselection.c
