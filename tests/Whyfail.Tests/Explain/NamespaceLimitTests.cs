#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>Namespace limits, reached for real inside a new user namespace that sets its own /proc/sys/user limits.</summary>
[Collection("Explain")]
public sealed class NamespaceLimitTests
{
    const int NR_UNSHARE = 272;

    [Fact]
    public void Enospc_from_unshare_names_the_zero_limit_of_the_namespace_type()
    {
        using var p = Actor.Python("""
open('/proc/sys/user/max_user_namespaces', 'w').write('0')
t(c, 'unshare', 0x10000000 | 0x00020000)
""", uid: null, prefix: ["unshare", "-U", "-r"]);
        Assert.Equal(28, p.Errno());

        var ex = Run(p.Event("unshare", NR_UNSHARE, 28, [0x10000000 | 0x00020000]));
        var e = One(ex, "namespace.limit");
        Assert.Matches(@"^user\.max_user_namespaces is 0 in pid \d+'s user namespace user:\[\d+\], so no new user namespace can be created there$", e.Text);
        Assert.StartsWith("raise user.max_user_namespaces (inside that namespace", e.Fix);
        Assert.True(e.Certain);
        // The mount namespace limit is not zero there: not blamed.
        Assert.Single(ex, x => x.Rule == "namespace.limit");
    }
}
