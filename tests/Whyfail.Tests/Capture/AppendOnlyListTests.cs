using Whyfail.Capture.Origin;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>The list that background attaching appends to while the polling thread resolves origins from it.</summary>
public class AppendOnlyListTests
{
    [Fact]
    public void AReaderNeverSeesAnElementBeforeItIsWrittenWhileTheListGrows()
    {
        var list = new AppendOnlyList<string>();
        const int n = 200_000;
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < n; i++) list.Add(i.ToString());
        });
        long checkedItems = 0;
        while (!writer.IsCompleted || checkedItems == 0)
        {
            int count = list.Count;
            if (count == 0) continue;
            // The newest visible element and one in the middle: both already written, whatever the array growth did.
            Assert.Equal((count - 1).ToString(), list[count - 1]);
            Assert.Equal((count / 2).ToString(), list[count / 2]);
            checkedItems++;
        }
        writer.Wait();
        Assert.Equal(n, list.Count);
        Assert.Equal(Enumerable.Range(0, n).Select(i => i.ToString()), list);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[n]);
    }
}
