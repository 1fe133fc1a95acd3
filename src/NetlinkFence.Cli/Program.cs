Console.WriteLine("netlinkfence");
