namespace Whyfail.Capture.Origin;

/// <summary>
/// A list one thread appends to while others read it (the functions attached in the background, read by the
/// polling thread's origin resolver). An element is written before the count that makes it visible, and an
/// array that grows keeps every element below the count, so a reader never sees a hole.
/// </summary>
public sealed class AppendOnlyList<T> : IReadOnlyList<T>
{
    private readonly Lock _lock = new();
    private T[] _items = new T[64];
    private volatile int _count;

    public int Count => _count;

    public T this[int index]
    {
        get
        {
            int count = _count;
            var items = Volatile.Read(ref _items);
            if ((uint)index >= (uint)count) throw new ArgumentOutOfRangeException(nameof(index));
            return items[index];
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            if (_count == _items.Length)
            {
                var grown = new T[_items.Length * 2];
                Array.Copy(_items, grown, _count);
                Volatile.Write(ref _items, grown);
            }
            _items[_count] = item;
            _count++;
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        int count = _count;
        var items = Volatile.Read(ref _items);
        for (int i = 0; i < count; i++) yield return items[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
