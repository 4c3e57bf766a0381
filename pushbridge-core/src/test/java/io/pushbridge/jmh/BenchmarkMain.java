package io.pushbridge.jmh;

import java.util.SortedSet;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * What the {@code jmh} Maven profile runs in each module with benchmarks: JMH's own
 * {@link org.openjdk.jmh.Main}, unless none of this module's benchmarks match the patterns given,
 * in which case it says so and ends normally. So one command ({@code -pl pushbridge-redis -am})
 * runs the matching benchmarks of every module it builds, where JMH alone would fail the build
 * in each module without a match.
 *
 * <p>Only the first {@code META-INF/BenchmarkList} on the class path counts (JMH reads one): the
 * module's own, since its test classes come first.
 */
public final class BenchmarkMain {

    public static void main(String[] args) throws Exception {
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            org.openjdk.jmh.Main.main(args); // JMH says what is wrong with them
            return;
        }
        if (!options.shouldHelp() && !options.shouldList() && !options.shouldListWithParams()
                && !options.shouldListProfilers() && !options.shouldListResultFormats()) {
            SortedSet<BenchmarkListEntry> matching = BenchmarkList.defaultList().find(
                    OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT),
                    options.getIncludes(), options.getExcludes());
            if (matching.isEmpty()) {
                System.out.println("No benchmark of this module matches " + options.getIncludes() + "; none run here.");
                return;
            }
        }
        org.openjdk.jmh.Main.main(args);
    }

    private BenchmarkMain() {
    }
}
