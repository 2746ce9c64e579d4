using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Kubernetes;

/// <summary>
/// Which ReplicaSet an undo takes its template from, as <c>kubectl rollout undo</c> chooses: with no revision, the
/// highest revision below the current one (the previous rollout); with one, exactly that revision, which must not be
/// the current one.
/// </summary>
public static class RevisionSelector
{
    public static ReplicaSetRevision Select(IReadOnlyCollection<ReplicaSetRevision> owned, long toRevision, string deployment)
    {
        if (toRevision < 0)
        {
            throw new FlagsException(KubernetesErrorIds.RevisionNotFound, FlagsErrorKind.ObjectNotFound, $"A revision is a positive number; got {toRevision}.", toRevision);
        }

        var current = owned.Count == 0 ? 0 : owned.Max(r => r.Revision);
        if (toRevision == 0)
        {
            return owned.Where(r => r.Revision < current).OrderByDescending(r => r.Revision).FirstOrDefault()
                   ?? throw new FlagsException(KubernetesErrorIds.RevisionNotFound, FlagsErrorKind.ObjectNotFound, $"Deployment '{deployment}' has no previous revision to roll back to (current revision {current}).", deployment);
        }

        if (toRevision == current)
        {
            throw new FlagsException(KubernetesErrorIds.RevisionNotFound, FlagsErrorKind.ObjectNotFound, $"Revision {toRevision} is already the current revision of deployment '{deployment}'; nothing to undo.", deployment);
        }

        return owned.FirstOrDefault(r => r.Revision == toRevision)
               ?? throw new FlagsException(KubernetesErrorIds.RevisionNotFound, FlagsErrorKind.ObjectNotFound, $"Deployment '{deployment}' has no revision {toRevision}; known revisions: {string.Join(", ", owned.Select(r => r.Revision).OrderBy(r => r))}.", deployment);
    }
}
