using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Engine.Tests.Kubernetes;

/// <summary>Which ReplicaSet supplies the template of an undo, as kubectl rollout undo picks it.</summary>
public sealed class RevisionSelectorTests
{
    private static readonly ReplicaSetRevision[] Owned =
    {
        new("pms-backend-aaa", 1, null),
        new("pms-backend-ccc", 4, null),
        new("pms-backend-bbb", 2, null),
    };

    [Fact]
    public void Without_a_revision_the_highest_below_the_current_is_chosen()
        => Assert.Equal("pms-backend-bbb", RevisionSelector.Select(Owned, 0, "pms-backend").Name);

    [Fact]
    public void A_named_revision_is_chosen_exactly()
        => Assert.Equal("pms-backend-aaa", RevisionSelector.Select(Owned, 1, "pms-backend").Name);

    [Fact]
    public void An_unknown_revision_is_refused_and_lists_the_known_ones()
    {
        var ex = Assert.Throws<FlagsException>(() => RevisionSelector.Select(Owned, 3, "pms-backend"));
        Assert.Equal(KubernetesErrorIds.RevisionNotFound, ex.ErrorId);
        Assert.Contains("1, 2, 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_current_revision_is_refused()
        => Assert.Equal(KubernetesErrorIds.RevisionNotFound, Assert.Throws<FlagsException>(() => RevisionSelector.Select(Owned, 4, "pms-backend")).ErrorId);

    [Fact]
    public void A_single_revision_has_no_previous_one()
        => Assert.Equal(FlagsErrorKind.ObjectNotFound, Assert.Throws<FlagsException>(() => RevisionSelector.Select(new[] { new ReplicaSetRevision("x", 1, null) }, 0, "pms-backend")).Kind);
}
