using System.Globalization;
using Whyfail.Decoding;

namespace Whyfail.Analysis.Probe;

/// <summary>
/// The --when condition of `whyfail probe`, tested on each return: comparisons of the return value with
/// numbers or error names, joined by &amp;&amp; and || (&amp;&amp; binds tighter), with parentheses.
/// <c>ret</c> (also <c>$return</c>, SystemTap's name) is the value as the function's return type reads it.
/// Examples: <c>ret == -EINVAL</c>, <c>ret &lt; 0</c>, <c>ret == -EPERM || ret == -EACCES</c>, <c>ret != 0 &amp;&amp; ret != -EAGAIN</c>.
/// </summary>
public sealed class WhenCondition
{
    private readonly Func<long, bool> _test;

    public string Text { get; }

    private WhenCondition(string text, Func<long, bool> test)
    {
        Text = text;
        _test = test;
    }

    /// <summary>Every return matches (no --when).</summary>
    public static readonly WhenCondition Always = new("", _ => true);

    public bool Matches(long ret) => _test(ret);

    /// <summary>Parses a condition; throws <see cref="FormatException"/> saying what is wrong and where.</summary>
    public static WhenCondition Parse(string text)
    {
        var p = new Parser(text);
        var test = p.Or();
        p.End();
        return new WhenCondition(text.Trim(), test);
    }

    private sealed class Parser(string text)
    {
        private int _at;

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private bool Eat(string token)
        {
            Skip();
            if (string.CompareOrdinal(text, _at, token, 0, token.Length) != 0) return false;
            _at += token.Length;
            return true;
        }

        private FormatException Error(string what) =>
            new($"{what} at column {_at + 1} of '{text}' (expected e.g. 'ret == -EINVAL', 'ret < 0', 'ret == -EPERM || ret == -EACCES')");

        public void End()
        {
            Skip();
            if (_at < text.Length) throw Error($"unexpected '{text[_at..]}'");
        }

        public Func<long, bool> Or()
        {
            var left = And();
            while (Eat("||"))
            {
                var l = left;
                var r = And();
                left = v => l(v) || r(v);
            }
            return left;
        }

        private Func<long, bool> And()
        {
            var left = Comparison();
            while (Eat("&&"))
            {
                var l = left;
                var r = Comparison();
                left = v => l(v) && r(v);
            }
            return left;
        }

        private Func<long, bool> Comparison()
        {
            if (Eat("("))
            {
                var inner = Or();
                if (!Eat(")")) throw Error("missing ')'");
                return inner;
            }
            if (!(Eat("$return") || Eat("retval") || Eat("ret")))
                throw Error("a comparison must start with 'ret'");
            string op = Eat("==") ? "==" : Eat("!=") ? "!=" : Eat("<=") ? "<=" : Eat(">=") ? ">=" : Eat("<") ? "<" : Eat(">") ? ">" : throw Error("expected ==, !=, <, <=, > or >=");
            long value = Value();
            return op switch
            {
                "==" => v => v == value,
                "!=" => v => v != value,
                "<=" => v => v <= value,
                ">=" => v => v >= value,
                "<" => v => v < value,
                _ => v => v > value,
            };
        }

        private long Value()
        {
            Skip();
            bool negative = Eat("-");
            Skip();
            int start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
            string word = text[start.._at];
            if (word.Length == 0) throw Error("expected a number or an error name");
            long v;
            if (word.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && long.TryParse(word[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long h)) v = h;
            else if (long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out long d)) v = d;
            else if (char.IsLetter(word[0]) && Errno.TryParse(word, out int e)) v = e;
            else
            {
                var close = Errno.Suggest(word);
                _at = start;
                throw Error($"unknown error name '{word}'" + (close.Count > 0 ? $" (did you mean {string.Join(", ", close)}?)" : ""));
            }
            return negative ? -v : v;
        }
    }
}
