# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer harnesses, built with clang apart from the normal build: the
# library's sources are compiled again with -fsanitize=fuzzer,address,undefined
# into fuzz/obj and linked into each harness.  Called by "make fuzz" with
# srcdir, top_builddir, LIBDW_CFLAGS, LIBDW_LIBS and LIBELF_LIBS set.

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer
SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
LIB_NAMES = vdso-elf error acquire image symbols debug section cfi expr step analyze analyze-i386 analyze-aarch64 analyze-arm \
	eh-frame-hdr store lookup object arch arch-x86_64 arch-i386 arch-x32 arch-aarch64 arch-arm
LIB_OBJS = $(LIB_NAMES:%=fuzz/obj/%.o)
HARNESSES = fuzz-buffer fuzz-core fuzz-lookup fuzz-step fuzz-vdso-elf fuzz-object fuzz-target \
	fuzz-perf-data
UNWIND_NAMES = unw eh-table snapshot dwfl sample target
UNWIND_OBJS = $(UNWIND_NAMES:%=fuzz/obj/unwind-%.o)
CPPFLAGS_FUZZ = -I$(top_builddir) -I$(srcdir)/lib -I$(srcdir)/unwind -I$(srcdir)/fuzz $(LIBDW_CFLAGS)

all: $(HARNESSES:%=fuzz/%) fuzz/corpus/.done

fuzz/obj/%.o: $(srcdir)/lib/%.c $(wildcard $(srcdir)/lib/*.h)
	@mkdir -p fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -c -o $@ $<

# the unwind library, for fuzz-target
fuzz/obj/unwind-%.o: $(srcdir)/unwind/%.c $(wildcard $(srcdir)/unwind/*.h) $(wildcard $(srcdir)/lib/*.h)
	@mkdir -p fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -c -o $@ $<

fuzz/fuzz-target: $(srcdir)/fuzz/fuzz-target.c $(srcdir)/fuzz/fuzz-file.h $(LIB_OBJS) $(UNWIND_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -o $@ $< $(LIB_OBJS) $(UNWIND_OBJS) \
		$(LIBUNWIND_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) -lpthread -ldl

# the profile's recorded processes and the perf.data reader, for fuzz-perf-data
fuzz/obj/tools-%.o: $(srcdir)/tools/%.c $(wildcard $(srcdir)/tools/*.h) $(wildcard $(srcdir)/unwind/*.h) \
		$(wildcard $(srcdir)/lib/*.h)
	@mkdir -p fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -I$(srcdir)/tools -c -o $@ $<

fuzz/fuzz-perf-data: $(srcdir)/fuzz/fuzz-perf-data.c fuzz/obj/tools-perf-data.o \
		fuzz/obj/tools-profile-data.o $(LIB_OBJS) $(UNWIND_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -I$(srcdir)/tools -o $@ $< \
		fuzz/obj/tools-perf-data.o fuzz/obj/tools-profile-data.o $(LIB_OBJS) $(UNWIND_OBJS) \
		$(LIBUNWIND_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) -lpthread -ldl

# the hook's table writer, for fuzz-buffer
fuzz/obj/eh-table.o: $(srcdir)/unwind/eh-table.c $(srcdir)/unwind/eh-table.h $(wildcard $(srcdir)/lib/*.h)
	@mkdir -p fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -c -o $@ $<

fuzz/fuzz-buffer: $(srcdir)/fuzz/fuzz-buffer.c $(srcdir)/fuzz/fuzz-common.h $(LIB_OBJS) fuzz/obj/eh-table.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -o $@ $< $(LIB_OBJS) fuzz/obj/eh-table.o \
		$(LIBDW_LIBS) $(LIBELF_LIBS) -lpthread -ldl

fuzz/fuzz-vdso-elf: $(srcdir)/fuzz/fuzz-vdso-elf.c fuzz/obj/vdso-elf.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -o $@ $^

fuzz/fuzz-%: $(srcdir)/fuzz/fuzz-%.c $(srcdir)/fuzz/fuzz-common.h $(srcdir)/fuzz/fuzz-mem.h $(srcdir)/fuzz/fuzz-file.h $(LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SAN) $(CPPFLAGS_FUZZ) -o $@ $< $(LIB_OBJS) \
		$(LIBDW_LIBS) $(LIBELF_LIBS) -lpthread -ldl

# seeds: the images of a 64-bit and a 32-bit process, and small cores
fuzz/corpus/.done: $(srcdir)/fuzz/make-corpus.sh
	sh $(srcdir)/fuzz/make-corpus.sh $(srcdir) $(top_builddir) fuzz/corpus
	@touch $@

.SECONDARY:
.PHONY: all
