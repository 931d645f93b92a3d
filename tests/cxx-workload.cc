// SPDX-License-Identifier: LGPL-2.1-or-later
// A C++ program for `vdsoscope profile`: namespaced, templated and member
// functions on the stack around clock_gettime (in the vDSO).
//   cxx-workload SECONDS            the vDSO loop only
//   cxx-workload SECONDS syscalls   also getppid(2) as a real system call
//   cxx-workload SECONDS MODE       with any MODE: then prints its own user
//                                   and system time (getrusage) as
//                                   "rusage USER SYS"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vdsotest {
namespace detail {

template <typename T>
struct Clock {
	static T __attribute__((noinline)) read(clockid_t id)
	{
		struct timespec ts;
		clock_gettime(id, &ts);
		asm volatile("" ::: "memory");
		return static_cast<T>(ts.tv_nsec);
	}
};

} // namespace detail

template <typename T, int N>
T __attribute__((noinline)) spin(T acc)
{
	for (int i = 0; i < N; i++)
		acc += detail::Clock<T>::read(CLOCK_MONOTONIC);
	asm volatile("" ::: "memory");
	return acc;
}

class Worker {
public:
	explicit Worker(bool sys) : syscalls(sys) {}
	long __attribute__((noinline)) run(double seconds) const;

private:
	long __attribute__((noinline)) kernel(long acc) const;
	bool syscalls;
};

long Worker::kernel(long acc) const
{
	for (int i = 0; i < 1000; i++)
		acc += syscall(SYS_getppid);
	asm volatile("" ::: "memory");
	return acc;
}

long Worker::run(double seconds) const
{
	struct timespec t0, t;
	long acc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		acc = spin<long, 1000>(acc);
		if (syscalls)
			acc = kernel(acc);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	asm volatile("" ::: "memory");
	return acc;
}

} // namespace vdsotest

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	bool sys = argc > 2 && !strcmp(argv[2], "syscalls");
	vdsotest::Worker w(sys);
	long r = w.run(seconds);
	struct rusage ru;

	if (argc > 2 && getrusage(RUSAGE_SELF, &ru) == 0)
		printf("rusage %ld.%06ld %ld.%06ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
		       (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	return r == 42 ? 1 : 0;
}
