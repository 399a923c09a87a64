using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

public class BtfReturnTypesTests(ITestOutputHelper output)
{
    /// <summary>The running kernel's BTF (the facts using it are skipped on a kernel without it).</summary>
    private static BtfReturnTypes HostBtf() => Host.Value;

    private static readonly Lazy<BtfReturnTypes> Host = new(() => BtfReturnTypes.Load());

    [KernelBtfFact]
    public void RealBtf_DoSysOpenat2_ReturnsAnErrnoCapableInteger()
    {
        var btf = HostBtf();
        Assert.True(btf.TryGet("do_sys_openat2", out var f));
        // long before 6.12, int since: either carries -errno.
        Assert.Equal(BtfReturnKind.Integer, f.ReturnKind);
        Assert.Contains(f.ReturnType, new[] { "long", "long int", "int" });
        Assert.True(f.ReturnSize >= 4);
        Assert.Equal(3, f.ParameterCount);
        Assert.True(btf.CanReturnErrno("do_sys_openat2"));
    }

    [KernelBtfFact]
    public void RealBtf_PathOpenat_ReturnsStructFilePointer()
    {
        var btf = HostBtf();
        Assert.True(btf.TryGet("path_openat", out var f));
        Assert.Equal(BtfReturnKind.Pointer, f.ReturnKind);
        Assert.Equal("struct file *", f.ReturnType);
        Assert.True(f.CanCarryErrno);
    }

    [KernelBtfFact]
    public void RealBtf_TypedefChainsResolve()
    {
        var btf = HostBtf();
        Assert.True(btf.TryGet("vfs_write", out var f));
        Assert.Equal("ssize_t", f.ReturnType);       // typedef __kernel_ssize_t -> long
        Assert.Equal(BtfReturnKind.Integer, f.ReturnKind);
        Assert.Equal(8, f.ReturnSize);
        Assert.Equal(4, f.ParameterCount);
        Assert.Equal(4, btf.ParameterCount("vfs_write"));
    }

    [KernelBtfFact]
    public void RealBtf_VoidAndBoolFunctionsAreRejected()
    {
        var btf = HostBtf();
        Assert.True(btf.TryGet("kfree", out var kfree));
        Assert.Equal(BtfReturnKind.Void, kfree.ReturnKind);
        Assert.False(btf.CanReturnErrno("kfree"));
        Assert.True(btf.TryGet("capable", out var capable));
        Assert.Equal(BtfReturnKind.Bool, capable.ReturnKind);
        Assert.Equal("bool", capable.ReturnType);
        Assert.False(btf.CanReturnErrno("capable"));
        Assert.False(btf.CanReturnErrno("no_such_function_in_any_kernel"));
        Assert.Null(btf.ParameterCount("no_such_function_in_any_kernel"));
    }

    [KernelBtfFact]
    public void RealBtf_NarrowIntegersAreRejected()
    {
        var btf = HostBtf();
        var narrow = btf.Types.FunctionNames.Select(btf.Lookup)
            .Where(all => all.Count == 1 && all[0].ReturnKind == BtfReturnKind.NarrowInteger)
            .Select(all => all[0]).FirstOrDefault();
        Assert.NotEqual(default, narrow);
        output.WriteLine($"narrow: {narrow.Name} returns {narrow.ReturnType} ({narrow.ReturnSize} bytes)");
        Assert.True(narrow.ReturnSize < 4);
        Assert.False(btf.CanReturnErrno(narrow.Name));
        Assert.True(btf.Types.FunctionCount > 10_000);
    }

    [Fact]
    public void Synthetic_ClassifiesEveryKindOfReturn()
    {
        var b = new BtfBuilder();
        int intT = b.Int("int", 4, BtfBuilder.Signed);
        int longT = b.Int("long int", 8, BtfBuilder.Signed);
        int ulongT = b.Int("long unsigned int", 8, 0);
        int boolT = b.Int("_Bool", 1, BtfBuilder.Bool);
        int u8T = b.Int("unsigned char", 1, 0);
        int u16T = b.Int("short unsigned int", 2, 0);
        int charT = b.Int("char", 1, BtfBuilder.Signed | BtfBuilder.Char);
        int file = b.Struct("file", 200);
        int filePtr = b.Ptr(file);
        int ssize = b.Typedef("ssize_t", b.Typedef("__kernel_ssize_t", longT));
        int constInt = b.Const(b.Volatile(intT));
        int boolTd = b.Typedef("bool", boolT);
        int u8 = b.Typedef("u8", u8T);
        int enumT = b.Enum("state", "A", "B");
        int voidPtr = b.Ptr(0);
        int constCharPtr = b.Ptr(b.Const(charT));
        b.Var("some_var", intT);
        b.Array(intT, 4);

        b.Func("ret_int", b.FuncProto(intT, filePtr, intT));
        b.Func("ret_ssize", b.FuncProto(ssize, filePtr, voidPtr, ulongT, b.Ptr(longT)));
        b.Func("ret_ptr", b.FuncProto(filePtr));
        b.Func("ret_void_ptr", b.FuncProto(voidPtr));
        b.Func("ret_const_int", b.FuncProto(constInt));
        b.Func("ret_ulong", b.FuncProto(ulongT));
        b.Func("ret_void", b.FuncProto(0, intT));
        b.Func("ret_bool", b.FuncProto(boolTd));
        b.Func("ret_u8", b.FuncProto(u8));
        b.Func("ret_u16", b.FuncProto(u16T));
        b.Func("ret_enum", b.FuncProto(enumT));
        b.Func("ret_struct", b.FuncProto(file));
        b.Func("ret_string", b.FuncProto(constCharPtr));
        b.Func("variadic", b.FuncProto(intT, constCharPtr, 0));
        var btf = BtfReturnTypes.Parse(b.Build());

        void Is(string name, BtfReturnKind kind, string spelled, bool errno)
        {
            Assert.True(btf.TryGet(name, out var f), name);
            Assert.Equal(kind, f.ReturnKind);
            Assert.Equal(spelled, f.ReturnType);
            Assert.Equal(errno, f.CanCarryErrno);
            Assert.Equal(errno, btf.CanReturnErrno(name));
        }
        Is("ret_int", BtfReturnKind.Integer, "int", true);
        Is("ret_ssize", BtfReturnKind.Integer, "ssize_t", true);
        Is("ret_ptr", BtfReturnKind.Pointer, "struct file *", true);
        Is("ret_void_ptr", BtfReturnKind.Pointer, "void *", true);
        Is("ret_const_int", BtfReturnKind.Integer, "const volatile int", true);
        Is("ret_ulong", BtfReturnKind.Integer, "long unsigned int", true);
        Is("ret_void", BtfReturnKind.Void, "void", false);
        Is("ret_bool", BtfReturnKind.Bool, "bool", false);
        Is("ret_u8", BtfReturnKind.NarrowInteger, "u8", false);
        Is("ret_u16", BtfReturnKind.NarrowInteger, "short unsigned int", false);
        Is("ret_enum", BtfReturnKind.Enum, "enum state", false);
        Is("ret_struct", BtfReturnKind.Other, "struct file", false);
        Is("ret_string", BtfReturnKind.Pointer, "const char *", true);

        Assert.Equal(2, btf.ParameterCount("ret_int"));
        Assert.Equal(4, btf.ParameterCount("ret_ssize"));
        Assert.Equal(0, btf.ParameterCount("ret_ptr"));
        Assert.Equal(1, btf.ParameterCount("variadic")); // "..." is not a parameter
        // Compiler suffixes resolve to the source name.
        Assert.True(btf.CanReturnErrno("ret_int.isra.0"));
        Assert.True(btf.CanReturnErrno("ret_ptr.constprop.0"));
        Assert.False(btf.CanReturnErrno("ret_void.part.0"));
        Assert.Empty(btf.Lookup("missing"));
        Assert.Equal(14, btf.Types.FunctionCount);
    }

    [Fact]
    public void Synthetic_SameNameTwice_PrefersTheErrnoCapableOne()
    {
        var b = new BtfBuilder();
        int intT = b.Int("int", 4, BtfBuilder.Signed);
        b.Func("dup", b.FuncProto(0));
        b.Func("dup", b.FuncProto(intT, intT));
        var btf = BtfReturnTypes.Parse(b.Build());
        Assert.Equal(2, btf.Lookup("dup").Count);
        Assert.True(btf.TryGet("dup", out var f));
        Assert.Equal(BtfReturnKind.Integer, f.ReturnKind);
        Assert.Equal(1, f.ParameterCount);
    }

    [Fact]
    public void BadData_IsReportedClearly()
    {
        var e = Assert.Throws<KernelAnalysisException>(() => BtfReturnTypes.Parse(new byte[40]));
        Assert.Contains("bad magic", e.Message);
        var data = new BtfBuilder().Build();
        data[12] = 0xff; // type_len past the end
        Assert.Throws<KernelAnalysisException>(() => BtfReturnTypes.Parse(data));
        var missing = Assert.Throws<KernelAnalysisException>(() => BtfReturnTypes.Load("/nonexistent/btf"));
        Assert.Contains("kernel BTF is not readable", missing.Message);
    }
}

/// <summary>A fact about the running kernel's BTF: skipped, with the reason, on a kernel built without it.</summary>
public sealed class KernelBtfFactAttribute : FactAttribute
{
    public KernelBtfFactAttribute()
    {
        if (!File.Exists(BtfReturnTypes.DefaultPath))
            Skip = $"{BtfReturnTypes.DefaultPath} is missing (a kernel without CONFIG_DEBUG_INFO_BTF)";
    }
}
