/*
 * trace.h — User-space Statically Defined Tracing (USDT) for C and C++.
 *
 * A header-only layer over systemtap's <sys/sdt.h>. Each tracepoint is a
 * single `nop` in the code plus an ELF note (.note.stapsdt) that tells a
 * tracer (bpftrace, BCC, libbpf, perf, gdb, systemtap) where the nop is and
 * where its arguments live. Nothing happens at run time until a tracer
 * attaches; then the kernel turns the nop into a breakpoint.
 *
 * Plain tracepoints
 *   TRACE0(context, event) ... TRACE12(context, event, a1, ..., a12)
 *   TRACE(context, event)                  same as TRACE0
 *   TRACEPOINT(context, event, ...)        0 to 12 arguments, counted for you
 *
 *   Arguments are evaluated every time the site runs, attached or not: pass
 *   values you already have (integers, pointers, bools). Each argument's size
 *   and signedness are recorded in the note from its C type.
 *
 * Guarded tracepoints ("is-enabled" probes, with a semaphore)
 *   TRACEPOINT_GUARDED(context, event, ...)
 *                                          like TRACEPOINT, but the probe fires
 *                                          and its arguments are evaluated only
 *                                          while the tracepoint is active; it
 *                                          defines its semaphore itself, so it
 *                                          needs nothing else
 *   TRACEPOINT_SEMAPHORE(context, event)   define and declare the semaphore, at
 *                                          file or namespace scope, for
 *                                          TRACEPOINT_ACTIVE by hand; repeat it
 *                                          in every file that needs it (all
 *                                          share one counter)
 *   TRACEPOINT_SEMAPHORE_DECLARE(context, event)
 *                                          the same (older spelling)
 *   TRACEPOINT_ACTIVE(context, event)      true only while a tracer is attached;
 *                                          needs TRACEPOINT_SEMAPHORE in scope
 *
 *   The semaphore is a 2-byte counter in the `.probes` section whose address
 *   is written into the tracepoint's note; tracers add 1 on attach and take
 *   it away on detach. Its symbol is `context_event_semaphore` wherever it
 *   is defined or used, C++ namespaces included. An unattached guarded site
 *   costs a load, a compare and a branch (on x86 one compare with the
 *   counter in memory, and a branch). A plain tracepoint records semaphore
 *   address 0 ("none").
 *
 * Build switches (define before including, or with -D)
 *   TRACE_DISABLE      compile every tracepoint away (below)
 *   TRACE_REQUIRE      make a missing <sys/sdt.h> a compile error instead
 *   TRACE_NOP5         x86-64: each site is a 5-byte nop instead of `nop`, which
 *                      Linux 6.18 probes with a call rather than a trap (a
 *                      cheaper hit). The call writes below the stack pointer,
 *                      so the code must be compiled with -mno-red-zone, and
 *                      TRACE_NO_RED_ZONE must be defined to say so (pkg-config
 *                      moneyrocket-trace-nop5 and CMake moneyrocket::trace_nop5
 *                      add all three). Off by default.
 *
 * Compiled away
 *   Define TRACE_DISABLE before including this header (or -DTRACE_DISABLE),
 *   or build where <sys/sdt.h> is missing or has no STAP_PROBE macros (macOS,
 *   FreeBSD, Windows). Then no note is emitted, argument expressions are not
 *   evaluated (they are still type-checked, so variables used only for tracing
 *   raise no "unused" warning), TRACEPOINT_ACTIVE is the constant 0, and the
 *   header compiles with any C or C++ compiler. TRACE_ENABLED tells which
 *   case applies: 1 with probes, 0 without.
 *
 * Limits: at most 12 arguments (sdt.h's limit); bpftrace 0.17 reads only
 * arg0..arg5 on x86-64; strings are passed as `const char *` to
 * NUL-terminated C strings and byte buffers as pointers, both of which must
 * stay valid until the tracepoint returns. See doc/tracing.md.
 */
#ifndef MONEYROCKET_TRACE_H
#define MONEYROCKET_TRACE_H

/* ---- Do we have systemtap's probes? --------------------------------------- */

/*
 * sdt.h lets each argument live in a register, memory or an immediate
 * ("nor"). Given that choice clang spills every argument to the stack, which
 * turns a one-nop probe into a store per argument; registers and immediates
 * ("nr") keep clang's probes as cheap as gcc's. A user's choice wins.
 */
#if defined(__clang__) && defined(__x86_64__) && !defined(STAP_SDT_ARG_CONSTRAINT)
#define STAP_SDT_ARG_CONSTRAINT nr
#endif

#undef TRACE_ENABLED
#if !defined(TRACE_DISABLE) && defined(__has_include)
#if __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#if defined(STAP_PROBE) && defined(STAP_PROBE12)
/*
 * Guarded tracepoints rely on three of sdt.h's internals: the one-line
 * semaphore slot of the note (_SDT_SEMAPHORE), which we replace, and the
 * two macros we write it with. A systemtap that drops any of them would
 * otherwise leave every guarded probe silently off, so it is an error.
 */
#if !defined(_SDT_SEMAPHORE) || !defined(_SDT_ASM_1) || !defined(_SDT_ASM_ADDR)
#error "trace.h: this <sys/sdt.h> lacks _SDT_SEMAPHORE, _SDT_ASM_1 or _SDT_ASM_ADDR, which guarded tracepoints need; use systemtap-sdt-dev 4.x, or define TRACE_DISABLE"
#endif
#define TRACE_ENABLED 1
#endif
#endif
#endif
#ifndef TRACE_ENABLED
#define TRACE_ENABLED 0
#endif

/*
 * TRACE_REQUIRE: a project that must ship with its probes defines it
 * (-DTRACE_REQUIRE), and a build without a usable <sys/sdt.h> fails here
 * instead of compiling every tracepoint away.
 */
#if defined(TRACE_REQUIRE) && defined(TRACE_DISABLE)
#error "trace.h: TRACE_REQUIRE and TRACE_DISABLE are both defined; choose one"
#endif
#if defined(TRACE_REQUIRE) && !TRACE_ENABLED
#error "trace.h: TRACE_REQUIRE is defined but <sys/sdt.h> with STAP_PROBE is not available; install systemtap-sdt-dev (Debian, Ubuntu) or systemtap-sdt-devel (Fedora, RHEL)"
#endif

/* ---- Argument counting, shared by both builds ----------------------------- */
/*
 * TRACEPOINT(...) takes context and event as part of __VA_ARGS__, so even
 * the zero-argument case passes two tokens to the variadic part: no empty
 * __VA_ARGS__, hence no need for C++20's __VA_OPT__ or GNU's ##__VA_ARGS__.
 * _TRACE_ARGC yields the number of trace arguments after context and event.
 */
#define _TRACE_EXPAND(x) x
#define _TRACE_CAT(a, b) _TRACE_CAT_(a, b)
#define _TRACE_CAT_(a, b) a##b
#define _TRACE_PICK(_c, _e, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, \
		    _12, n, ...) n
#define _TRACE_ARGC(...)                                                   \
	_TRACE_EXPAND(_TRACE_PICK(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, \
				  4, 3, 2, 1, 0, _TRACE_TOO_FEW_ARGS))
#define _TRACE_DISPATCH(...) \
	_TRACE_CAT(TRACE, _TRACE_ARGC(__VA_ARGS__))

#define TRACEPOINT(...) _TRACE_DISPATCH(__VA_ARGS__)(__VA_ARGS__)
#define TRACE(context, event) TRACE0(context, event)

/*
 * A guarded tracepoint declares its semaphore in its own block and, on the
 * path taken only while a tracer is attached, defines it (see
 * _TRACE_SEMAPHORE_DEFINE), so it needs no TRACEPOINT_SEMAPHORE. The
 * trailing `_` keeps the variadic part non-empty for (context, event).
 */
#define _TRACE_DECLARE_OF(context, event, ...) _TRACE_SEMAPHORE_EXTERN(context, event)
#define _TRACE_DEFINE_OF(context, event, ...) _TRACE_SEMAPHORE_DEFINE(context, event)
#define _TRACE_ACTIVE_OF(context, event, ...) TRACEPOINT_ACTIVE(context, event)
#define TRACEPOINT_GUARDED(...)                                            \
	do {                                                               \
		_TRACE_EXPAND(_TRACE_DECLARE_OF(__VA_ARGS__, _));          \
		if (_TRACE_EXPAND(_TRACE_ACTIVE_OF(__VA_ARGS__, _))) {     \
			_TRACE_EXPAND(_TRACE_DEFINE_OF(__VA_ARGS__, _));   \
			TRACEPOINT(__VA_ARGS__);                           \
		}                                                          \
	} while (0)

#if TRACE_ENABLED

/*
 * sdt.h writes a semaphore address into every note only when the whole
 * translation unit defines _SDT_HAS_SEMAPHORES, and then every probe needs
 * a semaphore variable. We want plain and guarded sites side by side, so we
 * replace sdt.h's one-line semaphore slot: the note refers to
 * `context_event_semaphore` as a hidden weak symbol. If a guarded site or
 * TRACEPOINT_SEMAPHORE defined it, the note carries its address; if not,
 * the weak reference resolves to 0, which every tracer reads as "no
 * semaphore". sdt.h itself uses the same weak/hidden pattern for
 * `_.stapsdt.base`.
 */
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n)                                  \
	_SDT_ASM_1(.weak p##_##n##_semaphore)                 \
	_SDT_ASM_1(.hidden p##_##n##_semaphore)               \
	_SDT_ASM_1(_SDT_ASM_ADDR p##_##n##_semaphore)

/*
 * TRACE_NOP5: the opt-in 5-byte site. Linux 6.18 on x86-64 replaces a
 * uprobe on a 5-byte nop with a call into a trampoline instead of an int3
 * trap, several times cheaper per hit. That call pushes its return address
 * at the stack pointer, where a leaf function may keep live data (the
 * 128-byte "red zone" below %rsp), so code holding such sites must be
 * compiled with -mno-red-zone. Compilers announce no macro for that flag, so
 * the form needs TRACE_NO_RED_ZONE too, the flags' promise: pkg-config's
 * moneyrocket-trace-nop5 and CMake's moneyrocket::trace_nop5 give all three
 * together. The note is the same (address of the site, arguments), so every
 * tracer attaches; older kernels trap with int3 as with the 1-byte nop.
 * The 10-byte form (.nops 10) is never emitted: 6.18 cannot probe it.
 */
#if defined(TRACE_NOP5)
#if !defined(__x86_64__)
#error "trace.h: TRACE_NOP5 is for x86-64 only"
#elif !defined(TRACE_NO_RED_ZONE)
#error "trace.h: TRACE_NOP5 needs the code compiled with -mno-red-zone: add -mno-red-zone -DTRACE_NO_RED_ZONE (pkg-config moneyrocket-trace-nop5, CMake moneyrocket::trace_nop5)"
#endif
#undef _SDT_NOP
#define _SDT_NOP .nops 5
#endif

/*
 * The semaphore is defined in assembly, not in C, for two reasons:
 * - its symbol is the fixed name `context_event_semaphore` wherever the
 *   definition or a use sits, C++ namespaces included (a C++ variable in a
 *   namespace would be mangled, and the note's reference would resolve to
 *   0: the probe silently off);
 * - every guarded site can define it, so none needs a separate definition:
 *   `.ifndef` keeps one definition per assembly file, and the definition is
 *   weak, so the files of one program share one counter. Hidden: each
 *   executable or shared library has its own, as its notes expect.
 * It is a 2-byte zero in `.probes`, where systemtap puts semaphores.
 */
#define _TRACE_STR(x) #x
#define _TRACE_SEMAPHORE_ASM(sym)                                  \
	".ifndef " _TRACE_STR(sym) "\n"                            \
	".pushsection .probes, \"aw\", \"progbits\"\n"             \
	".weak " _TRACE_STR(sym) "\n"                              \
	".hidden " _TRACE_STR(sym) "\n"                            \
	".type " _TRACE_STR(sym) ", STT_OBJECT\n"                  \
	".size " _TRACE_STR(sym) ", 2\n"                           \
	".balign 2\n"                                              \
	_TRACE_STR(sym) ":\n"                                      \
	".zero 2\n"                                                \
	".popsection\n"                                            \
	".endif\n"
#define _TRACE_SEMAPHORE_DEFINE(context, event) \
	__asm__ __volatile__(_TRACE_SEMAPHORE_ASM(context##_##event##_semaphore))
#define _TRACE_SEMAPHORE_EXTERN(context, event)                         \
	extern __attribute__((visibility("hidden"))) volatile unsigned short \
		context##_##event##_semaphore                                \
		__asm__(_TRACE_STR(context##_##event##_semaphore))

/*
 * The explicit form, for TRACEPOINT_ACTIVE by hand: defines (weak, so
 * repeating it in several files is fine) and declares the semaphore, at
 * file or namespace scope.
 */
#define TRACEPOINT_SEMAPHORE(context, event)                                   \
	__asm__(_TRACE_SEMAPHORE_ASM(context##_##event##_semaphore));          \
	_TRACE_SEMAPHORE_EXTERN(context, event)
#define TRACEPOINT_SEMAPHORE_DECLARE(context, event) \
	TRACEPOINT_SEMAPHORE(context, event)

/*
 * Is a semaphore raised? gcc never folds a volatile load into another
 * instruction, so `sem > 0` costs a load into a register, a test and a
 * branch, and the register it takes often costs a move more. On x86 an asm
 * goto compares the counter in memory and branches: two instructions, no
 * register. The asm reads only the semaphore ("m"), so the compiler keeps
 * every other value where it is. Elsewhere a volatile load does the job.
 */
#if (defined(__x86_64__) || defined(__i386__)) && \
	(defined(__clang__) ? __clang_major__ >= 9 : __GNUC__ >= 5)
static inline __attribute__((always_inline)) int
_trace_semaphore_raised(volatile unsigned short *semaphore)
{
	__asm__ goto("cmpw $0, %0\n\tjne %l1" : : "m"(*semaphore) : "cc" : raised);
	return 0;
raised:
	return 1;
}
#else
static inline int _trace_semaphore_raised(volatile unsigned short *semaphore)
{
	return *semaphore > 0;
}
#endif
#define TRACEPOINT_ACTIVE(context, event) \
	__builtin_expect(_trace_semaphore_raised(&context##_##event##_semaphore), 0)

/*
 * sdt.h passes an empty variadic argument to one of its own macros. GCC
 * forgives that inside a system header; clang -pedantic reports it at our
 * call site, so we silence exactly that diagnostic around the expansion.
 */
#if defined(__clang__)
#define _TRACE_SDT_BEGIN                                \
	do {                                            \
		_Pragma("clang diagnostic push")        \
		_Pragma("clang diagnostic ignored \"-Wgnu-zero-variadic-macro-arguments\"")
#define _TRACE_SDT_END                                  \
		_Pragma("clang diagnostic pop")         \
	} while (0)
#else
#define _TRACE_SDT_BEGIN do {
#define _TRACE_SDT_END \
	}              \
	while (0)
#endif

#define TRACE0(context, event) _TRACE_SDT_BEGIN STAP_PROBE(context, event); _TRACE_SDT_END
#define TRACE1(context, event, a) _TRACE_SDT_BEGIN STAP_PROBE1(context, event, a); _TRACE_SDT_END
#define TRACE2(context, event, a, b) _TRACE_SDT_BEGIN STAP_PROBE2(context, event, a, b); _TRACE_SDT_END
#define TRACE3(context, event, a, b, c) _TRACE_SDT_BEGIN STAP_PROBE3(context, event, a, b, c); _TRACE_SDT_END
#define TRACE4(context, event, a, b, c, d) \
	_TRACE_SDT_BEGIN STAP_PROBE4(context, event, a, b, c, d); _TRACE_SDT_END
#define TRACE5(context, event, a, b, c, d, e) \
	_TRACE_SDT_BEGIN STAP_PROBE5(context, event, a, b, c, d, e); _TRACE_SDT_END
#define TRACE6(context, event, a, b, c, d, e, f) \
	_TRACE_SDT_BEGIN STAP_PROBE6(context, event, a, b, c, d, e, f); _TRACE_SDT_END
#define TRACE7(context, event, a, b, c, d, e, f, g) \
	_TRACE_SDT_BEGIN STAP_PROBE7(context, event, a, b, c, d, e, f, g); _TRACE_SDT_END
#define TRACE8(context, event, a, b, c, d, e, f, g, h) \
	_TRACE_SDT_BEGIN STAP_PROBE8(context, event, a, b, c, d, e, f, g, h); _TRACE_SDT_END
#define TRACE9(context, event, a, b, c, d, e, f, g, h, i) \
	_TRACE_SDT_BEGIN STAP_PROBE9(context, event, a, b, c, d, e, f, g, h, i); _TRACE_SDT_END
#define TRACE10(context, event, a, b, c, d, e, f, g, h, i, j) \
	_TRACE_SDT_BEGIN STAP_PROBE10(context, event, a, b, c, d, e, f, g, h, i, j); _TRACE_SDT_END
#define TRACE11(context, event, a, b, c, d, e, f, g, h, i, j, k) \
	_TRACE_SDT_BEGIN STAP_PROBE11(context, event, a, b, c, d, e, f, g, h, i, j, k); _TRACE_SDT_END
#define TRACE12(context, event, a, b, c, d, e, f, g, h, i, j, k, l) \
	_TRACE_SDT_BEGIN STAP_PROBE12(context, event, a, b, c, d, e, f, g, h, i, j, k, l); _TRACE_SDT_END

#else /* !TRACE_ENABLED: everything compiles away */

/*
 * Arguments sit in dead code: type-checked and counted as used, never
 * evaluated, and no instruction is emitted for them. Each is cast to void
 * so the comma expression raises no "no effect" warning.
 */
#define _TRACE_NONE(...)     \
	do {                 \
		if (0) {     \
			__VA_ARGS__; \
		}            \
	} while (0)

/* A declaration, so the file-scope use still ends in a valid `;`. */
#define TRACEPOINT_SEMAPHORE(context, event) \
	extern volatile unsigned short context##_##event##_semaphore
#define TRACEPOINT_SEMAPHORE_DECLARE(context, event) \
	TRACEPOINT_SEMAPHORE(context, event)
#define _TRACE_SEMAPHORE_EXTERN(context, event) (void)0
#define _TRACE_SEMAPHORE_DEFINE(context, event) (void)0
#define TRACEPOINT_ACTIVE(context, event) 0

#define TRACE0(context, event) \
	do {                   \
	} while (0)
#define TRACE1(context, event, a) \
	_TRACE_NONE((void)(a))
#define TRACE2(context, event, a, b) \
	_TRACE_NONE((void)(a), (void)(b))
#define TRACE3(context, event, a, b, c3) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3))
#define TRACE4(context, event, a, b, c3, d) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d))
#define TRACE5(context, event, a, b, c3, d, e5) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), (void)(e5))
#define TRACE6(context, event, a, b, c3, d, e5, f) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f))
#define TRACE7(context, event, a, b, c3, d, e5, f, g) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g))
#define TRACE8(context, event, a, b, c3, d, e5, f, g, h) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g), (void)(h))
#define TRACE9(context, event, a, b, c3, d, e5, f, g, h, i) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g), (void)(h), (void)(i))
#define TRACE10(context, event, a, b, c3, d, e5, f, g, h, i, j) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g), (void)(h), (void)(i), \
		    (void)(j))
#define TRACE11(context, event, a, b, c3, d, e5, f, g, h, i, j, k) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g), (void)(h), (void)(i), \
		    (void)(j), (void)(k))
#define TRACE12(context, event, a, b, c3, d, e5, f, g, h, i, j, k, l) \
	_TRACE_NONE((void)(a), (void)(b), (void)(c3), (void)(d), \
		    (void)(e5), (void)(f), (void)(g), (void)(h), (void)(i), \
		    (void)(j), (void)(k), (void)(l))

#endif /* TRACE_ENABLED */

#endif /* MONEYROCKET_TRACE_H */
