using System.Text;
using Whyfail.Capture.Deny.Bpf;

namespace Whyfail.Capture.Deny;

/// <summary>
/// A glob compiled to the bit-parallel automaton the BPF side runs (struct wfd_glob of bpf/deny.h), and the same
/// step function in C# (<see cref="Step"/>), so that what the kernel matches can be tested here.
///
/// Syntax, on bytes (UTF-8), matching the whole string: <c>*</c> any run of bytes but '/' (possibly none);
/// <c>**</c> any run of bytes, '/' included; in <c>/**/</c> the globstar and its second slash may match nothing, so
/// <c>/home/**/.ssh/*</c> matches /home/.ssh/x as well as /home/a/b/.ssh/x; <c>?</c> one byte but '/';
/// <c>\c</c> the character c itself. Three or more '*' in a row are one <c>**</c>. At most 63 tokens (a token is
/// one literal byte, one <c>?</c> or one run of '*'): state bit i means "the first i tokens matched".
/// </summary>
public sealed class Glob
{
    private enum Kind : byte { Byte, Any, Star, GlobStar }
    private readonly record struct Token(Kind Kind, byte Value);

    public const int MaxTokens = WfdConst.GlobTokens;

    /// <summary>Bit i+1: token i accepts byte c (a literal, or '?' and c is not '/').</summary>
    public ulong[] Accept { get; } = new ulong[256];
    /// <summary>Bit i+1: token i is '*' (loops on any byte but '/').</summary>
    public ulong Star { get; }
    /// <summary>Bit i+1: token i is '**' (loops on any byte).</summary>
    public ulong GlobStar { get; }
    /// <summary>Bit i+1: token i is the first '/' of "/**/": from there the "**/" may be skipped.</summary>
    public ulong Jump { get; }
    /// <summary>The state before any byte (bit 0 and what a leading star adds).</summary>
    public ulong Start { get; }
    /// <summary>The state bit of a whole match.</summary>
    public ulong Final { get; }
    /// <summary>Tokens after compilation.</summary>
    public int Tokens { get; }
    public string Pattern { get; }

    private Glob(string pattern, List<Token> tokens)
    {
        Pattern = pattern;
        Tokens = tokens.Count;
        for (int i = 0; i < tokens.Count; i++)
        {
            ulong bit = 1UL << (i + 1);
            var t = tokens[i];
            switch (t.Kind)
            {
                case Kind.Byte:
                    Accept[t.Value] |= bit;
                    if (t.Value == '/' && i + 2 < tokens.Count && tokens[i + 1].Kind == Kind.GlobStar && tokens[i + 2] is { Kind: Kind.Byte, Value: (byte)'/' })
                        Jump |= bit;
                    break;
                case Kind.Any:
                    for (int c = 0; c < 256; c++)
                        if (c != '/') Accept[c] |= bit;
                    break;
                case Kind.Star: Star |= bit; break;
                case Kind.GlobStar: GlobStar |= bit; break;
            }
        }
        Final = 1UL << tokens.Count;
        Start = Closure(1);
    }

    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="FormatException"/> with the reason when it cannot.</summary>
    public static Glob Compile(string pattern)
    {
        if (pattern.Length == 0) throw new FormatException("empty pattern");
        var tokens = new List<Token>();
        var bytes = Encoding.UTF8.GetBytes(pattern);
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            if (b == '\\')
            {
                if (++i == bytes.Length) throw new FormatException("a '\\' at the end escapes nothing (write \\\\ for a backslash)");
                tokens.Add(new Token(Kind.Byte, bytes[i]));
            }
            else if (b == '*')
            {
                int run = 1;
                while (i + 1 < bytes.Length && bytes[i + 1] == '*') { i++; run++; }
                tokens.Add(new Token(run == 1 ? Kind.Star : Kind.GlobStar, 0));
            }
            else if (b == '?')
                tokens.Add(new Token(Kind.Any, 0));
            else
                tokens.Add(new Token(Kind.Byte, b));
        }
        // "/**/**/" means what "/**/" means; chained skips would need more than one jump per byte.
        for (int i = 0; i + 4 < tokens.Count; i++)
            if (IsSlash(tokens[i]) && tokens[i + 1].Kind == Kind.GlobStar && IsSlash(tokens[i + 2]) && tokens[i + 3].Kind == Kind.GlobStar && IsSlash(tokens[i + 4]))
            {
                tokens.RemoveRange(i + 1, 2);
                i--;
            }
        if (tokens.Count > MaxTokens)
            throw new FormatException($"too long: {tokens.Count} tokens, at most {MaxTokens} (a token is a byte, a '?' or a run of '*')");
        return new Glob(pattern, tokens);
    }

    private static bool IsSlash(Token t) => t is { Kind: Kind.Byte, Value: (byte)'/' };

    /// <summary>True when the pattern has no wildcard at all.</summary>
    public bool Literal => Star == 0 && GlobStar == 0 && !Pattern.Contains('?');

    private ulong Closure(ulong d)
    {
        d |= (d & Jump) << 2;
        d |= (d << 1) & (Star | GlobStar);
        return d;
    }

    /// <summary>One byte, exactly as wfd_glob_match in bpf/deny.bpf.c does it.</summary>
    public ulong Step(ulong d, byte c)
    {
        ulong loop = GlobStar | (c != '/' ? Star : 0);
        d = ((d << 1) & Accept[c]) | (d & loop);
        return Closure(d);
    }

    public bool Match(ReadOnlySpan<byte> s)
    {
        ulong d = Start;
        foreach (byte c in s)
        {
            d = Step(d, c);
            if (d == 0) return false;
        }
        return (d & Final) != 0;
    }

    public bool Match(string s) => Match(Encoding.UTF8.GetBytes(s));
}
