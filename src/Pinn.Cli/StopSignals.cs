using System.Runtime.InteropServices;

namespace Pinn.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (a batch scheduler's time limit, a plain <c>kill</c>) as one graceful stop:
/// the runtime is told not to terminate, the token is cancelled, and the trainer stops at its next step,
/// saves a checkpoint and writes the results so far. The first signal decides the exit code
/// (128 + its number, the shell convention: 130 for SIGINT, 143 for SIGTERM); later ones are absorbed,
/// so a scheduler's follow-up SIGKILL is what ends a run that will not stop (and a checkpoint write it
/// cuts short leaves the previous checkpoint loadable: see <see cref="Pinn.Training.Checkpoint.Save"/>).
/// </summary>
sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly PosixSignalRegistration[] _registrations;
    int _first; // 0 until a signal arrives, then its PosixSignal value (all nonzero)

    public StopSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>The first signal received, if any.</summary>
    public PosixSignal? Received => _first == 0 ? null : (PosixSignal)_first;

    /// <summary>The exit code of an interrupted run: 143 after SIGTERM, otherwise 130 (SIGINT, or no signal).</summary>
    public int InterruptedExitCode => Received == PosixSignal.SIGTERM ? PinnCommand.Terminated : PinnCommand.Interrupted;

    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // stop at the next step, save a checkpoint and the results so far
        Interlocked.CompareExchange(ref _first, (int)context.Signal, 0);
        try { _cancel.Cancel(); }
        catch (ObjectDisposedException) { } // a signal racing Dispose: the run is over anyway
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
    }
}
