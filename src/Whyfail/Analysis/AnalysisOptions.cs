namespace Whyfail.Analysis;

/// <summary>What the analysis of an event does (the session maps its command line onto this).</summary>
/// <param name="Explain">Run the explanation rules (--no-explain turns them off).</param>
/// <param name="StringLimit">Bytes of a string argument shown in the decoded call (-s).</param>
public sealed record AnalysisOptions(bool Explain = true, int StringLimit = 64);
