using System.Text;
using Whyfail.Analysis.Origin.Kernel;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// whyfail's own SHA-256 (no OpenSSL at start-up) gives the digest .NET's (OpenSSL's) gives, at every length around
/// the padding's edges, so that the call graph cache's file names are those an older whyfail wrote.
/// </summary>
public class Sha256Tests
{
    [Fact]
    public void TheDigestIsTheStandardOne()
    {
        var rng = new Random(17);
        foreach (int n in new[] { 0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 119, 120, 127, 128, 129, 1000, 4096 + 13 })
        {
            var data = new byte[n];
            rng.NextBytes(data);
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), Sha256.Hash(data));
        }
        // The FIPS 180-4 example.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(Sha256.Hash("abc"u8)));
    }

    [Fact]
    public void TheCallGraphCacheKeepsItsFileNames()
    {
        var opts = new CallGraphOptions();
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(opts.CacheKey())))[..16];
        Assert.EndsWith($"-openat-{expected}.list", new CallGraphCache("/nonexistent-whyfail-test").PathFor("build", "openat", opts));
    }
}
