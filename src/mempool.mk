# The mempool (src/mempool.c; policy arithmetic in src/mempool_policy.h).
# Its unit tests (test/unit/test_mempool.c) run it over a real chainstate
# in a temporary directory, mined with the miner, so the runner links the
# chain too. moneyrocketd links all three through src/node.mk's
# NODE_DAEMON_SRCS.
UNIT_TEST_SRCS += src/mempool.c src/validation.c src/miner.c
