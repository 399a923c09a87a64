namespace Whyfail;

/// <summary>
/// The errno values (x86_64 Linux; constants, for patterns and P/Invoke results, usable from every layer): Errnos.g.cs,
/// written by tools/gen-xlat from Decoding/Data/errno.tsv and errno_internal.tsv; and the names sentences use, read
/// from the same tables.
/// </summary>
public static partial class Errnos
{
    /// <summary>
    /// The name of an errno for sentences ("ENOMSG", "ERESTARTSYS"), from the generated errno table (Decoding/Data):
    /// every value the call line can show has its name here too; "errno N" only for a number no table knows.
    /// </summary>
    public static string Name(int errno) => Decoding.Errno.Name(errno) ?? $"errno {errno}";
}
