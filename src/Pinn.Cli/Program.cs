using static TorchSharp.torch;
var x = linspace(-1, 1, 5, dtype: ScalarType.Float64).requires_grad_(true);
var y = sin(Math.PI * x);
var g = TorchSharp.torch.autograd.grad(new[]{y.sum()}, new[]{x}, retain_graph: true, create_graph: true)[0];
var gg = TorchSharp.torch.autograd.grad(new[]{g.sum()}, new[]{x}, retain_graph: true, create_graph: true)[0];
Console.WriteLine(string.Join(",", gg.data<double>().ToArray()));
Console.WriteLine(cuda.is_available());
