Pinn.Training.NativeRuntime.BeforeTorchLoads(); // before anything touches TorchSharp: libgomp reads its settings when it loads
return Pinn.Cli.PinnCommand.Run(args, Console.Out, Console.Error);
