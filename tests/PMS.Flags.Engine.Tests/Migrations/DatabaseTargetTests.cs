using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Engine.Tests.Migrations;

public sealed class DatabaseTargetTests
{
    [Fact]
    public void A_url_and_a_connection_string_name_the_same_database_without_the_password()
    {
        var url = DatabaseTarget.Parse("postgresql://app:p%40ss%3Aw0rd@db.internal:6543/pms?sslmode=require");
        var cs = DatabaseTarget.Parse("Host=db.internal;Port=6543;Username=app;Password=p@ss:w0rd;Database=pms");
        Assert.Equal("db.internal:6543/pms as app", url.Name);
        Assert.Equal(url.Name, cs.Name);
        Assert.DoesNotContain("w0rd", url.ToString());
    }

    [Fact]
    public void The_alembic_url_encodes_the_password_and_Mask_hides_every_spelling()
    {
        var target = DatabaseTarget.Parse("Host=127.0.0.1;Port=5433;Username=app;Password=p@ss:w0rd%;Database=pms");
        var url = target.ToSqlAlchemyUrl();
        Assert.Equal("postgresql+psycopg2://app:p%40ss%3Aw0rd%25@127.0.0.1:5433/pms", url);
        Assert.Equal("postgresql+psycopg2://app:***@127.0.0.1:5433/pms", target.Mask(url));
        Assert.Equal("password p@ss:w0rd% failed", target.Mask("password p@ss:w0rd% failed").Replace("***", "p@ss:w0rd%"));
        Assert.DoesNotContain("w0rd", target.Mask("password p@ss:w0rd% failed"));
    }

    [Theory]
    [InlineData(null, MigrationErrorIds.ConnectionStringMissing)]
    [InlineData("Host=x;Database", MigrationErrorIds.ConnectionStringInvalid)]
    [InlineData("Port=5432;Password=secret-in-bad-string;Bogus=1", MigrationErrorIds.ConnectionStringInvalid)]
    [InlineData("Host=x;Password=secret-in-bad-string", MigrationErrorIds.ConnectionStringInvalid)]
    public void Bad_connection_strings_are_refused_without_echoing_them(string? text, string errorId)
    {
        var refusal = Assert.Throws<FlagsException>(() => DatabaseTarget.Parse(text));
        Assert.Equal(errorId, refusal.ErrorId);
        Assert.DoesNotContain("secret-in-bad-string", refusal.Message);
    }
}
