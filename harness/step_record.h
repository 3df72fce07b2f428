// step_record.h: what microgpt-bench records across one training run besides
// Google Benchmark's time: each run's memory (peak RSS, page faults) and, with
// --step-times FILE, every step's time for one run of each variant.
//
// One process runs many variants, so memory is measured per run: before it,
// malloc_trim(0) hands the heap's free memory back to the system (so the run
// starts near a fresh process's resident set, not above what an earlier
// variant left behind), and writing "5" to /proc/self/clear_refs restarts the
// kernel's peak-RSS count (VmHWM) at the current resident set; page faults
// are getrusage differences over the run. Included by bench_main.cpp only.
#ifndef MICROGPT_STEP_RECORD_H
#define MICROGPT_STEP_RECORD_H

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "training_run.h"
}

namespace step_record
{

// Frees the heap's unused memory and restarts VmHWM; false if the kernel
// refused the reset (then the peak is the process's so far).
inline bool reset_peak_rss()
{
    malloc_trim(0);
    std::FILE *clear_refs = std::fopen("/proc/self/clear_refs", "w");
    if (!clear_refs)
        return false;
    bool written = std::fputs("5", clear_refs) >= 0;
    return std::fclose(clear_refs) == 0 && written;
}

struct page_faults {
    double minor, major;
};

inline page_faults page_faults_now()
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return {static_cast<double>(usage.ru_minflt), static_cast<double>(usage.ru_majflt)};
}

// glibc's view of the heap (mallinfo2): how much it holds from the system,
// how much of that is in use, and in how many free pieces the rest lies.
struct heap_snapshot {
    int step;
    double arena_bytes, in_use_bytes, free_bytes, free_chunks, fastbin_chunks, mmap_bytes;
};

inline double thread_cpu_seconds()
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

inline double involuntary_switches()
{
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    return static_cast<double>(usage.ru_nivcsw);
}

// One run's steps: step i's time (forward + backward + update, as the step
// measures them: wall clock), the CPU time of the training thread from the
// end of step i - 1 to the end of step i (the first includes the model's
// creation), its graph's nodes, and since the run began the minor page faults
// and the times the scheduler took the CPU away (involuntary context
// switches); a heap snapshot every heap_interval steps and after the last.
struct run_steps {
    std::vector<double> seconds, cpu_seconds, nodes, minor_faults, involuntary_switches;
    std::vector<heap_snapshot> heap;
    double faults_at_start = 0.0, cpu_mark = 0.0, switches_at_start = 0.0;

    void start()
    {
        faults_at_start = page_faults_now().minor;
        cpu_mark = thread_cpu_seconds();
        switches_at_start = step_record::involuntary_switches();
    }
};

const int heap_interval = 100;

// run_options.on_step: appends to the run_steps in context. mallinfo2 walks
// the free lists (some 8 million instructions with naive's 100,000 free nodes), hence
// only every heap_interval steps; it runs between steps, inside the run's
// training time (the overhead of --step-times: docs/step-time.md).
inline void on_step(void *context, int step, int num_steps, const step_result *result)
{
    run_steps &steps = *static_cast<run_steps *>(context);
    steps.seconds.push_back(result->forward_seconds + result->backward_seconds + result->update_seconds);
    double cpu = thread_cpu_seconds();
    steps.cpu_seconds.push_back(cpu - steps.cpu_mark);
    steps.cpu_mark = cpu;
    steps.involuntary_switches.push_back(involuntary_switches() - steps.switches_at_start);
    steps.nodes.push_back(static_cast<double>(result->graph.nodes));
    steps.minor_faults.push_back(page_faults_now().minor - steps.faults_at_start);
    if ((step + 1) % heap_interval == 0 || step + 1 == num_steps) {
        struct mallinfo2 info = mallinfo2();
        steps.heap.push_back({step + 1, static_cast<double>(info.arena), static_cast<double>(info.uordblks),
                              static_cast<double>(info.fordblks), static_cast<double>(info.ordblks),
                              static_cast<double>(info.smblks), static_cast<double>(info.hblkhd)});
    }
}

inline void write_numbers(std::FILE *out, const char *key, const std::vector<double> &values)
{
    std::fprintf(out, "\"%s\": [", key);
    for (size_t i = 0; i < values.size(); i++)
        std::fprintf(out, "%s%.9g", i ? ", " : "", values[i]);
    std::fprintf(out, "]");
}

// {"steps": N, "variants": {name: {"seconds": [...], "cpu_seconds": [...],
// "involuntary_switches": [...], "nodes": [...], "minor_faults": [...], "heap": [{"step": ..., "arena_bytes": ...,
// ...}]}}}, written to a temporary file and renamed. false on an I/O error.
inline bool write_json(const std::string &path, int steps, const std::map<std::string, run_steps> &runs)
{
    std::string temporary = path + ".tmp-" + std::to_string(getpid());
    std::FILE *out = std::fopen(temporary.c_str(), "w");
    if (!out)
        return false;
    std::fprintf(out, "{\"steps\": %d, \"heap_interval\": %d, \"variants\": {", steps, heap_interval);
    const char *separator = "\n";
    for (const auto &[name, run] : runs) {
        std::fprintf(out, "%s  \"%s\": {", separator, name.c_str());
        write_numbers(out, "seconds", run.seconds);
        std::fprintf(out, ",\n    ");
        write_numbers(out, "cpu_seconds", run.cpu_seconds);
        std::fprintf(out, ",\n    ");
        write_numbers(out, "involuntary_switches", run.involuntary_switches);
        std::fprintf(out, ",\n    ");
        write_numbers(out, "nodes", run.nodes);
        std::fprintf(out, ",\n    ");
        write_numbers(out, "minor_faults", run.minor_faults);
        std::fprintf(out, ",\n    \"heap\": [");
        for (size_t i = 0; i < run.heap.size(); i++) {
            const heap_snapshot &h = run.heap[i];
            std::fprintf(out,
                         "%s{\"step\": %d, \"arena_bytes\": %.0f, \"in_use_bytes\": %.0f, \"free_bytes\": %.0f, "
                         "\"free_chunks\": %.0f, \"fastbin_chunks\": %.0f, \"mmap_bytes\": %.0f}",
                         i ? ",\n      " : "", h.step, h.arena_bytes, h.in_use_bytes, h.free_bytes, h.free_chunks,
                         h.fastbin_chunks, h.mmap_bytes);
        }
        std::fprintf(out, "]}");
        separator = ",\n";
    }
    std::fprintf(out, "\n}}\n");
    bool ok = std::fflush(out) == 0 && !std::ferror(out);
    ok = std::fclose(out) == 0 && ok;
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        return false;
    }
    return true;
}

} // namespace step_record

#endif
