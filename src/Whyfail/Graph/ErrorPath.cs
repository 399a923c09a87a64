using Whyfail.Events;

namespace Whyfail.Graph;

/// <summary>
/// Marks the error's path in a failing tree: from the syscall entry to the function where the
/// origin backend saw the error born, with the return values the backend recorded; without an
/// origin, the last calls before the syscall returned (the path a caller-side reading of the tree
/// would follow first).
/// </summary>
public static class ErrorPath
{
    /// <param name="records">Error returns of watched functions during the call, in return order, named.</param>
    /// <param name="args">--args: parallel to <paramref name="records"/>, each function's arguments (null where none); kept on the error path's nodes.</param>
    public static void Mark(Invocation inv, IReadOnlyList<(string Function, long Ret)> records, IReadOnlyList<IReadOnlyList<ProbeValue>?>? args = null)
    {
        // Return order is post-order: pair each record with the next node of that name, in order.
        var post = inv.Root.PostOrder().ToList();
        int cursor = 0;
        for (int k = 0; k < records.Count; k++)
        {
            var (fn, ret) = records[k];
            int at = post.FindIndex(cursor, n => n.Name == fn);
            if (at < 0) continue;
            post[at].Ret = ret;
            if (args != null && k < args.Count) post[at].Args = args[k];
            cursor = at + 1;
        }
        MarkPath(inv, records.Count);
        // Arguments of failures the call handled (off the error path) would only distract.
        foreach (var n in post)
            if (!n.OnErrorPath) n.Args = null;
    }

    private static void MarkPath(Invocation inv, int recorded)
    {
        // Follow the error as it climbed: from the entry, into the last child that returned the
        // syscall's error value, as deep as such returns were recorded; then down to the origin's
        // function if the backend placed it deeper still.
        if (recorded > 0 && inv.Ret is { } want)
        {
            var path = new List<CallNode> { inv.Root };
            for (var n = inv.Root; ;)
            {
                var next = n.Children.LastOrDefault(c => c.Ret == want);
                if (next == null) break;
                path.Add(next);
                n = next;
            }
            if (inv.Origin is { } origin && path[^1].Name != origin.Function
                && path[^1].PostOrder().LastOrDefault(x => x.Name == origin.Function && x != path[^1]) is { } deeper)
                path.AddRange(PathTo(path[^1], deeper)!.Skip(1));
            if (path.Count > 1 || inv.Root.Ret == want)
            {
                inv.ErrorPathSource = "origin";
                foreach (var n in path) n.OnErrorPath = true;
                return;
            }
        }
        inv.ErrorPathSource = "last calls";
        for (var n = inv.Root; ; n = n.Children[^1])
        {
            n.OnErrorPath = true;
            if (n.Children.Count == 0) break;
        }
    }

    /// <summary>The nodes from <paramref name="root"/> down to <paramref name="target"/>, or null when it is not below.</summary>
    public static List<CallNode>? PathTo(CallNode root, CallNode target)
    {
        if (root == target) return [root];
        foreach (var c in root.Children)
            if (PathTo(c, target) is { } p)
            {
                p.Insert(0, root);
                return p;
            }
        return null;
    }

    /// <summary>The error path, entry first.</summary>
    public static List<CallNode> Nodes(Invocation inv)
    {
        var list = new List<CallNode>();
        for (var n = inv.Root; n != null && n.OnErrorPath; n = n.Children.LastOrDefault(c => c.OnErrorPath))
            list.Add(n);
        return list;
    }
}
