// MSBuild inline task (see Directory.Build.targets): marks chosen ELF version needs weak.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenElfVersionNeeds : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionNames { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    public override bool Execute()
    {
        var names = VersionNames.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                int changed = Weaken(path, names, out int alreadyWeak);
                if (changed > 0)
                    Log.LogMessage(MessageImportance.High, $"Debian 12 fix: marked {changed} GLIBCXX version need(s) weak in {path}");
                else if (alreadyWeak > 0)
                    Log.LogMessage(MessageImportance.Normal, $"Debian 12 fix: {path} already patched");
            }
            catch (Exception e)
            {
                Log.LogError($"Could not patch ELF version needs of {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    static int Weaken(string path, string[] names, out int alreadyWeak)
    {
        alreadyWeak = 0;
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 44);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 24);
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = ReadString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (Array.IndexOf(names, name) >= 0)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) != 0) alreadyWeak++;
                        else
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, (int)aux + 4);
                            changed++;
                        }
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        if (changed > 0)
        {
            // Atomic replace: a half-written native library would be worse than an unpatched one.
            string tmp = path + ".weaken.tmp";
            File.WriteAllBytes(tmp, elf);
            File.Replace(tmp, path, null);
        }
        return changed;
    }

    static string ReadString(byte[] data, long start)
    {
        int end = (int)start;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, (int)start, end - (int)start);
    }
}
