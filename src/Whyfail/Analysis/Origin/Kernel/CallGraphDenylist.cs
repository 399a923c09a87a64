namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// Kernel infrastructure the call graph neither returns nor walks into: thunks, locking, RCU,
/// allocation, string helpers, tracing, scheduling, printing and release paths. They do not decide
/// a syscall's errno (an allocator returns NULL; its caller picks ENOMEM), and walking into them
/// floods the graph with the scheduler and the memory manager. Kept on purpose: copy_from_user-like
/// helpers (EFAULT: strncpy_from_user, memdup_user, _copy_from_user...), security_* hooks,
/// *_permission checks and capability helpers.
/// Entries ending in '*' are prefixes; others are exact names (compared without a ".isra.0"-like suffix).
/// </summary>
public sealed class CallGraphDenylist
{
    public static readonly IReadOnlyList<string> Default =
    [
        // Thunks, retpolines, padding, mitigations, compiler instrumentation.
        "__x86_*", "__pfx_*", "__cfi_*", "__fentry__", "__stack_chk_fail", "__static_call_return0", "__SCT__*",
        "srso_*", "retbleed_*", "entry_untrain_ret", "zen_untrain_ret", "__ibt*",
        "__ubsan_*", "__asan_*", "__kasan*", "kasan_*", "__tsan_*", "kcsan_*", "__kcsan_*", "__sanitizer_*",
        "kmsan_*", "__msan_*", "kfence_*", "__kfence_*",
        // Locking, RCU, preemption.
        "_raw_spin_*", "raw_spin_*", "_raw_read_*", "_raw_write_*", "queued_spin_*", "queued_read_*", "queued_write_*",
        "__pv_queued_*", "native_queued_*", "mutex_*", "__mutex_*", "down_*", "up_*", "__down*", "__up_*",
        "rwsem_*", "__rwsem*", "percpu_down_*", "percpu_up_*", "__percpu_down*", "__percpu_up*",
        "lock_acquire", "lock_release", "lock_acquired", "lock_contended", "lock_is_held_type", "lockdep_*", "__lockdep*",
        "rcu_*", "__rcu*", "call_rcu*", "synchronize_rcu*", "kvfree_call_rcu", "srcu_*", "__srcu*", "synchronize_srcu*",
        "preempt_*", "__preempt*", "migrate_disable", "migrate_enable", "local_bh_*", "__local_bh_*",
        // Scheduling and waiting.
        "schedule", "schedule_*", "__schedule", "io_schedule*", "__cond_resched*", "_cond_resched", "dynamic_cond_resched",
        "__might_sleep", "__might_fault", "__might_resched", "might_fault",
        "__wake_up*", "wake_up_*", "try_to_wake_up", "autoremove_wake_function", "prepare_to_wait*", "finish_wait",
        "add_wait_queue*", "remove_wait_queue", "init_wait_entry", "complete", "complete_all", "wait_for_completion*",
        "queue_work_on", "__queue_work", "queue_delayed_work_on", "mod_timer", "__mod_timer", "add_timer*", "del_timer*",
        "timer_delete*", "hrtimer_*",
        // Allocation (NULL, not an errno; the caller chooses ENOMEM) and memory accounting.
        "kmem_cache_*", "__kmem_cache_*", "kmalloc*", "__kmalloc*", "kfree*", "kvfree*", "kvmalloc*", "__kvmalloc*",
        "kvrealloc*", "krealloc*", "kmemdup*", "kstrdup*", "vmalloc*", "__vmalloc*", "vfree*", "vzalloc*",
        "__alloc_pages*", "alloc_pages*", "__folio_alloc*", "folio_alloc*", "__get_free_pages", "get_zeroed_page*",
        "free_pages*", "__free_pages*", "slab_*", "__slab_*", "___slab_*", "memcg_*", "__memcg*", "mem_cgroup_*",
        "__mem_cgroup*", "obj_cgroup_*", "__mod_memcg*", "mod_memcg*", "__mod_lruvec*", "mod_lruvec*", "__count_memcg*",
        "percpu_counter_*", "__percpu_counter*", "__this_cpu_preempt_check",
        // String and memory helpers.
        "memcpy*", "memset*", "memmove*", "memcmp", "__memcpy*", "__memset*", "__memmove*", "bcmp",
        "strlen", "strnlen", "strcmp", "strncmp", "strscpy*", "sized_strscpy", "strcpy", "strncpy", "strchr*", "strrchr",
        "strcat", "strlcpy", "strlcat", "strcasecmp", "strncasecmp", "strstr", "strsep",
        "snprintf", "sprintf", "vsnprintf", "scnprintf", "vscnprintf", "kasprintf", "kvasprintf*",
        "_find_*", "__bitmap_*", "bitmap_*", "cpumask_*", "__sw_hweight*", "sort", "sort_r", "bsearch",
        "get_random_*", "__get_random*", "ktime_get*", "jiffies*", "__usecs_to_jiffies", "__msecs_to_jiffies",
        // Tracing and BPF trace glue.
        "trace_*", "__trace_*", "perf_trace_*", "trace_event_*", "__traceiter_*", "__probestub_*", "__bpf*",
        "bpf_trace*", "ftrace_*",
        // Hardening checks, FPU state.
        "__check_object_size", "check_stack_object", "__virt_addr_valid", "__check_heap_object", "usercopy_abort",
        "fpregs_*", "fpu_*", "__fpu_*", "kernel_fpu_*", "switch_fpu_*",
        // Printing, warnings, debugging.
        "printk*", "_printk*", "vprintk*", "__warn_printk", "warn_slowpath_fmt", "__warn", "__dynamic_*", "dump_stack*",
        "panic", "report_bug", "debug_*", "refcount_warn_saturate", "__list_add_valid*", "__list_del_entry_valid*",
        // Release paths: their errors are never a syscall's result.
        "dput", "iput", "fput", "__fput*", "fput_many", "mntput", "mntput_no_expire", "path_put", "__put_cred",
        "put_pid", "kobject_put", "module_put", "__put_task_struct*", "free_uid", "shrink_dcache_*", "__dentry_kill",
        "dentry_free", "d_invalidate", "__detach_mounts", "namespace_unlock", "mntput_*",
        // Audit (records, never refuses).
        "__audit_*", "audit_*",
    ];

    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly string[] _prefixes;

    public CallGraphDenylist(IEnumerable<string> entries)
    {
        var prefixes = new List<string>();
        foreach (var e in entries)
        {
            if (e.EndsWith('*')) prefixes.Add(e[..^1]);
            else _exact.Add(e);
        }
        _prefixes = prefixes.ToArray();
    }

    public static CallGraphDenylist For(CallGraphOptions options) =>
        new(options.ExtraDeny.Count == 0 ? Default : Default.Concat(options.ExtraDeny));

    public bool IsDenied(string name)
    {
        if (_exact.Contains(name)) return true;
        int dot = name.IndexOf('.');
        if (dot > 0 && _exact.Contains(name[..dot])) return true;
        foreach (var p in _prefixes)
            if (name.StartsWith(p, StringComparison.Ordinal)) return true;
        return false;
    }
}
