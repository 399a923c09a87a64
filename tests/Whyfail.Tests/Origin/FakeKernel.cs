using System.Buffers.Binary;
using System.Text;
using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Tests.Origin;

/// <summary>Kernel text held in an array.</summary>
internal sealed class ArrayText(ulong baseAddress, byte[] bytes) : IKernelTextReader
{
    public string Source => "test text";
    public int Reads { get; private set; }

    public bool TryRead(ulong address, Span<byte> destination)
    {
        Reads++;
        if (address < baseAddress || address - baseAddress + (ulong)destination.Length > (ulong)bytes.Length) return false;
        bytes.AsSpan((int)(address - baseAddress), destination.Length).CopyTo(destination);
        return true;
    }
}

/// <summary>A tiny fake kernel: named functions at fixed offsets, machine code written by hand.</summary>
internal sealed class FakeKernel
{
    public const ulong Base = 0xffffffff81000000;
    private readonly byte[] _text;
    private readonly List<(string Name, ulong Address, char Type)> _symbols = new();

    public FakeKernel(int size = 0x2000)
    {
        _text = new byte[size];
        System.Array.Fill(_text, (byte)0xCC); // int3 padding, as between kernel functions
    }

    public ulong this[string name] => _symbols.First(s => s.Name == name).Address;

    public FakeKernel Symbol(string name, int offset, char type = 't')
    {
        _symbols.Add((name, Base + (ulong)offset, type));
        return this;
    }

    public Emitter Code(string name) => new(this, this[name]);

    public Kallsyms Kallsyms()
    {
        var sb = new StringBuilder();
        foreach (var s in _symbols) sb.Append($"{s.Address:x16} {s.Type} {s.Name}\n");
        return Whyfail.Analysis.Origin.Kernel.Kallsyms.Parse(sb.ToString(), "fake kallsyms");
    }

    public ArrayText Text() => new(Base, _text);

    public byte[] Bytes(string name, int length) => _text.AsSpan((int)(this[name] - Base), length).ToArray();

    public sealed class Emitter(FakeKernel kernel, ulong start)
    {
        private ulong _ip = start;

        private Emitter Put(params byte[] bytes)
        {
            bytes.CopyTo(kernel._text, (int)(_ip - Base));
            _ip += (ulong)bytes.Length;
            return this;
        }

        private Emitter Rel(byte[] opcode, ulong target)
        {
            ulong next = _ip + (ulong)opcode.Length + 4;
            var b = new byte[opcode.Length + 4];
            opcode.CopyTo(b, 0);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(opcode.Length), checked((int)(long)(target - next)));
            return Put(b);
        }

        public Emitter Call(string target, int delta = 0) => Call(kernel[target] + (ulong)(long)delta);
        public Emitter Call(ulong target) => Rel([0xE8], target);
        public Emitter Jmp(string target, int delta = 0) => Rel([0xE9], kernel[target] + (ulong)(long)delta);
        public Emitter Jne(string target, int delta = 0) => Rel([0x0F, 0x85], kernel[target] + (ulong)(long)delta);
        public Emitter JmpShortBack(int back) => Put(0xEB, (byte)(sbyte)(-back - 2));
        public Emitter Ret() => Put(0xC3);
        public Emitter Nop() => Put(0x90);
        public Emitter Nop5() => Put(0x0F, 0x1F, 0x44, 0x00, 0x00);  // a patched-out __fentry__ call
        public Emitter Endbr64() => Put(0xF3, 0x0F, 0x1E, 0xFA);
        public Emitter CallRax() => Put(0xFF, 0xD0);
        public Emitter JmpRax() => Put(0xFF, 0xE0);
        public Emitter Ud2() => Put(0x0F, 0x0B);
        /// <summary>mov eax, imm32 (how a function makes "return -ENOSPC").</summary>
        public Emitter MovEax(int value) => Put([0xB8, .. BitConverter.GetBytes(value)]);
    }
}
