# make install / make uninstall: the header library for other projects.
#
#   PREFIX/include/moneyrocket-trace/trace.h        the header; consumers get
#                                                   -I.../moneyrocket-trace, so
#                                                   #include <trace.h> works and
#                                                   cannot meet another trace.h
#                                                   in PREFIX/include
#   PREFIX/share/pkgconfig/moneyrocket-trace.pc     header-only, so share/
#   PREFIX/share/pkgconfig/moneyrocket-trace-nop5.pc the 5-byte site form
#                                                   (TRACE_NOP5, -mno-red-zone)
#   PREFIX/share/cmake/moneyrocket-trace/           find_package(moneyrocket-trace
#       moneyrocket-trace-config.cmake              CONFIG) -> moneyrocket::trace
#       moneyrocket-trace-config-version.cmake      (and moneyrocket::trace_nop5)
#
# DESTDIR stages the same tree under another root (for packagers): files go
# to $(DESTDIR)$(PREFIX)/..., and their contents still name $(PREFIX).
# uninstall removes these files and the two directories of our own, if empty.
TRACE_VERSION := 0.1.0
INST_ROOT     := $(DESTDIR)$(PREFIX)
INST_INCDIR   := $(INST_ROOT)/include/moneyrocket-trace
INST_PCDIR    := $(INST_ROOT)/share/pkgconfig
INST_CMAKEDIR := $(INST_ROOT)/share/cmake/moneyrocket-trace
INST_FILES    := $(INST_INCDIR)/trace.h $(INST_PCDIR)/moneyrocket-trace.pc \
		 $(INST_PCDIR)/moneyrocket-trace-nop5.pc \
		 $(INST_CMAKEDIR)/moneyrocket-trace-config.cmake \
		 $(INST_CMAKEDIR)/moneyrocket-trace-config-version.cmake
SUBST         := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(TRACE_VERSION)|g'

install: include/trace.h $(wildcard packaging/*.in)
	install -d $(INST_INCDIR) $(INST_PCDIR) $(INST_CMAKEDIR)
	install -m 0644 include/trace.h $(INST_INCDIR)/trace.h
	$(SUBST) packaging/moneyrocket-trace.pc.in > $(INST_PCDIR)/moneyrocket-trace.pc
	$(SUBST) packaging/moneyrocket-trace-nop5.pc.in > $(INST_PCDIR)/moneyrocket-trace-nop5.pc
	$(SUBST) packaging/moneyrocket-trace-config.cmake.in \
		> $(INST_CMAKEDIR)/moneyrocket-trace-config.cmake
	$(SUBST) packaging/moneyrocket-trace-config-version.cmake.in \
		> $(INST_CMAKEDIR)/moneyrocket-trace-config-version.cmake

uninstall:
	rm -f $(INST_FILES)
	rmdir $(INST_INCDIR) $(INST_CMAKEDIR) 2>/dev/null || true
