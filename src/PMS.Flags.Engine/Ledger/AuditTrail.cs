using Newtonsoft.Json;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// The ledger as mutations use it: check it is writable before a change that must be audited first, and record after
/// the change — into the ledger, or, when the ledger fails at that moment for any reason, into the spool, because the
/// change has already happened and its record must not be lost. A spool problem never stops the new event.
/// </summary>
public sealed class AuditTrail
{
    public AuditTrail(ILedger ledger, AuditSpool spool, IOperationLog log)
    {
        Ledger = ledger;
        Spool = spool;
        Log = log;
    }

    public ILedger Ledger { get; }

    public AuditSpool Spool { get; }

    public IOperationLog Log { get; }

    /// <summary>
    /// The protected-environment set in force, recorded in every event beside the authenticated principal; set by the
    /// engine that owns the store (FlagOperations, RolloutEngine, EmergencyRollback).
    /// </summary>
    public IReadOnlyCollection<string>? ProtectedEnvironments { get; set; }

    /// <summary>
    /// The readiness policy the readiness gate applied to the change this trail records (verdict, checklist, plan hash,
    /// override); recorded in every event of that change. Null for changes the gate never sees.
    /// </summary>
    public Newtonsoft.Json.Linq.JObject? Readiness { get; set; }

    /// <summary>Who is really acting (the CI actor or the OS user), whatever -User asserted.</summary>
    public string Principal { get; init; } = UserIdentity.Resolve(null);

    /// <summary>
    /// Adds who acted and under which policy to an event's details: the authenticated principal beside the asserted
    /// user (user_id), and the protected environments in force. Every event this trail or a rollout decision writes.
    /// </summary>
    public AuditEvent Stamp(AuditEvent draft)
    {
        var details = draft.DetailsObject();
        if (details.ContainsKey("principal"))
        {
            return draft;
        }

        details["principal"] = Principal;
        if (ProtectedEnvironments is { } environments)
        {
            details["protected_environments"] = new Newtonsoft.Json.Linq.JArray(environments);
        }

        if (Readiness is { } readiness && !details.ContainsKey("readiness"))
        {
            details["readiness"] = readiness.DeepClone();
        }

        return draft.WithDetails(details.ToString(Formatting.None));
    }

    public async Task EnsureWritableAsync(CancellationToken cancellationToken)
    {
        Log.Verbose($"Checking that the audit ledger {Ledger.Name} can be written before changing anything.");
        await Ledger.EnsureWritableAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes spooled events to the ledger; a failure is a warning (the spool keeps them), never an exception.</summary>
    public async Task<SpoolFlush> FlushSpoolAsync(CancellationToken cancellationToken)
    {
        var flush = await Spool.FlushAsync(Ledger, Log, cancellationToken).ConfigureAwait(false);
        if (flush.LedgerFailure is { } failure)
        {
            Log.Warning($"Spooled audit events could not be flushed to {Ledger.Name} yet: {failure.Message}");
        }

        return flush;
    }

    public async Task<AuditRecord> RecordAsync(AuditEvent draft, CancellationToken cancellationToken)
        => (await RecordAsync(new[] { draft }, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Records events that belong together as one append (all or none), spooling them all if the ledger fails.</summary>
    public async Task<IReadOnlyList<AuditRecord>> RecordAsync(IReadOnlyList<AuditEvent> drafts, CancellationToken cancellationToken)
    {
        try
        {
            drafts = drafts.Select(Stamp).ToArray();
            await FlushSpoolAsync(cancellationToken).ConfigureAwait(false);
            var stored = await Ledger.AppendAsync(drafts, null, false, cancellationToken).ConfigureAwait(false);
            foreach (var e in stored)
            {
                Log.Verbose($"Recorded {e.EventType} as #{e.Sequence} in {Ledger.Name}.");
            }

            return stored.Select(e => new AuditRecord(e, false, null)).ToArray();
        }
        catch (Exception ex)
        {
            // The change has happened: whatever failed (the ledger, its driver, a cancelled session), the record is kept.
            return drafts.Select(d => SpoolAfterFailure(d, ex)).ToArray();
        }
    }

    private AuditRecord SpoolAfterFailure(AuditEvent draft, Exception cause)
    {
        var why = cause is OperationCanceledException ? "cancelled" : cause.Message;
        try
        {
            var path = Spool.Spool(Ledger, draft);
            Log.Warning($"The change was made, but the ledger could not record it now ({why}). The audit event was spooled to '{path}' and will be written on the next successful append.");
            return new AuditRecord(draft, true, path);
        }
        catch (Exception spoolFailure) when (spoolFailure is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            var json = AuditEventCodec.ToJObject(draft, includeHash: false).ToString(Formatting.None);
            throw new FlagsException(
                "AuditNotRecorded",
                FlagsErrorKind.WriteError,
                $"The change WAS made, but neither the ledger nor the spool '{Spool.Directory}' could record it ({spoolFailure.Message}). Record this event by hand: {json}",
                draft.FeatureFlag,
                cause is OperationCanceledException ? spoolFailure : cause)
            { ChangeWasMade = true };
        }
    }
}
