# tcpstate — build, demo, tests.
#   make            library build/libtcpstate.a and command build/tcpstate
#   make demo       build, then run the simulated lifecycle demo
#   make test       whole suite, once normally and once under ASan+UBSan
#   make bench      benchmarks (ratios against peers measured in the same run)
#   make kernel-check   every tests/pkt script on the Linux kernel (root)
#   make CC=clang   the same with clang

CC      ?= cc
BUILD   ?= build
CSTD     = -std=c11
WARN     = -Wall -Wextra -Werror
OPT     ?= -O2 -g
CPPFLAGS = -Iinclude -Isrc -Itests -D_GNU_SOURCE $(CHECKFLAGS)
CHECKS  ?= 1
ifeq ($(CHECKS),1)
CHECKFLAGS = -DTS_CONN_CHECK
endif
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDLIBS  += -lpthread

CORE_SRC   := $(sort $(wildcard src/core/*.c))
DRV_SRC    := $(sort $(wildcard src/drv/*.c))
SCRIPT_SRC := $(sort $(wildcard src/script/*.c))
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
TEST_SRC   := $(sort $(wildcard tests/*.c tests/unit/*.c))

CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ    := $(DRV_SRC:%.c=$(BUILD)/%.o) $(SCRIPT_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)

LIB  := $(BUILD)/libtcpstate.a
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))
APPLIB := $(BUILD)/libtsapp.a
BIN  := $(BUILD)/tcpstate
TESTBIN := $(BUILD)/tcpstate-tests

.PHONY: all demo test check bench kernel-check clean fuzz examples lwip-tests bench-build
all: $(LIB) $(BIN) $(TESTBIN) $(EXAMPLES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(APPLIB): $(APP_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libpcap (tcpstate tun --pcap) goes into the command only; the core and
# the tests stay free of it.
$(BIN): $(CLI_OBJ) $(APPLIB) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(APPLIB) $(LIB) $(LDLIBS) -lpcap

$(TESTBIN): $(TEST_OBJ) $(APPLIB) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJ) $(APPLIB) $(LIB) $(LDLIBS)

# lwIP as an in-process peer (Debian's liblwip-dev): tests/lwip/ and the lwIP
# side of bench/. Built only when lwIP's headers are installed.
LWIP_INC  ?= /usr/include/lwip
HAVE_LWIP := $(if $(wildcard $(LWIP_INC)/lwip/tcp.h),1,0)
LWPEER_OBJ := $(BUILD)/tests/lwip/lwpeer.o $(BUILD)/tests/lwip/lwep.o
LWTEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tests/lwip/test_*.c)))
LWIPBIN   := $(BUILD)/tcpstate-lwip-tests
$(LWPEER_OBJ) $(LWTEST_OBJ): CPPFLAGS += -I$(LWIP_INC)

$(LWIPBIN): $(LWTEST_OBJ) $(LWPEER_OBJ) $(BUILD)/tests/harness.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -llwip $(LDLIBS)

lwip-tests: $(LWIPBIN)

# Benchmarks: every bench/*.c is one program (its own main) linked with the
# libraries, bench/lib/*.c and, when installed, lwIP with the lwpeer glue.
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_LOBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard bench/lib/*.c)))
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench-bin/%)
BENCH_LWIP := $(if $(filter 1,$(HAVE_LWIP)),$(LWPEER_OBJ) -llwip,)
$(BENCH_SRC:%.c=$(BUILD)/%.o) $(BENCH_LOBJ): CPPFLAGS += -Ibench/lib -DTS_HAVE_LWIP=$(HAVE_LWIP) \
	$(if $(filter 1,$(HAVE_LWIP)),-I$(LWIP_INC) -Itests/lwip,)

$(BUILD)/bench-bin/%: $(BUILD)/bench/%.o $(BENCH_LOBJ) $(if $(filter 1,$(HAVE_LWIP)),$(LWPEER_OBJ),) $(APPLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_LOBJ) $(BENCH_LWIP) $(APPLIB) $(LIB) $(LDLIBS) -lm

bench-build: $(BENCH_BIN)

demo: $(BIN)
	./$(BIN) sim lifecycle

# The whole suite twice: plain, then AddressSanitizer + UndefinedBehaviorSanitizer.
test:
	@sh tests/run.sh

check: test

bench:
	@sh bench/run.sh

kernel-check: $(BIN)
	@sh tests/kernel-check.sh

# examples/: programs that use only the public header and libtcpstate.a
examples: $(EXAMPLES)
$(BUILD)/examples/%: examples/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(EXTRA_CFLAGS) -Iinclude $< $(LIB) -o $@

# libFuzzer targets (clang): make fuzz; then build/fuzz/fuzz_stack -max_total_time=60
FUZZ_SRC := $(sort $(wildcard fuzz/*.c))
fuzz:
	@mkdir -p $(BUILD)/fuzz
	for f in $(FUZZ_SRC); do \
		clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -DTS_CONN_CHECK -D_GNU_SOURCE \
			-Iinclude -Isrc $$f $(CORE_SRC) -o $(BUILD)/fuzz/$$(basename $$f .c) || exit 1; \
	done

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
-include $(LWPEER_OBJ:.o=.d) $(LWTEST_OBJ:.o=.d) $(BENCH_SRC:%.c=$(BUILD)/%.d) $(BENCH_LOBJ:.o=.d)
